"""The run archive (SPEC §5, §8): atomic run folders, manifests and run hashes, the archive
lock, the chain of approval records with optional HMAC and signed head, approval folders, the
approved history a Q4 reads, and verification of all of it. See layout.py for the folders."""
