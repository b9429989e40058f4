"""The offline demo: bundled fictional feeds, a local feed server and the demo run."""
