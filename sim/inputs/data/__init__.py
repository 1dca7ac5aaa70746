"""Data files shipped with the model: quartier profiles and a Zensus sample grid."""
