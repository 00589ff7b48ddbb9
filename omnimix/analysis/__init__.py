"""What omnimix knows about a file or a repository: parsed modules, symbols, node classes, line counts."""
