"""The gate's rules, one concern each: input bounds, relations, calls, sizes, the function allow-list."""
