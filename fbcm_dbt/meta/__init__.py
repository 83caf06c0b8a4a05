"""Everything that knows how Meta's Marketing API behaves: the HTTP client, money units, live reads."""
