"""Forms sent twice: the second sending of one page form gets the first's result."""
