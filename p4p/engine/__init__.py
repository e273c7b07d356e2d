"""The pure computation of a quarter: no files, no printing, no click."""
