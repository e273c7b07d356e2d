"""Paying: payees, payment lists, receivables, corrections and bank files (SPEC §9)."""
