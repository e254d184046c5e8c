"""The knowledge base: articles as Markdown files, and the code that indexes them and answers."""
