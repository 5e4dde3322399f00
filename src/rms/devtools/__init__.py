"""Developer tools: a throwaway PostgreSQL cluster, and an emulator of a pausing Aurora."""
