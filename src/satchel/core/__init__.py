"""The pure domain: models, errors, grid keys, access policy, validation. No I/O."""
