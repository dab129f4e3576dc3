"""The bridge between the database and the pure `solver` package: snapshot, solve off the loop, store."""
