"""Sample meshes: `build` writes the three industry meshes, `synthetic` a large catalog for benchmarks, and
`history` the synthetic usage and quality history a sample's state store is seeded with when it is created.

The package itself imports nothing, so the facade can wire the history seeder without loading the generators.
"""
