"""omnimix codemods: one module per transformation, each with its examples on the class."""
