"""The call recorder: a managed Janus, post-processing without re-encoding, files sealed at rest."""
