"""Official figures copied from the project calibration data; see README.md here."""
