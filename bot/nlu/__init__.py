"""Our NLU pieces: the accent-folding featurizer used in config.yml and Spanish number parsing."""
