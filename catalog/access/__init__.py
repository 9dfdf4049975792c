"""Access: who may see what (the one visibility policy), identity, write authority, the access ledger, trust."""
