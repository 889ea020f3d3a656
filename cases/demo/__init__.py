"""Demo data drawn from the Tacna–Arica border situation of late 2025."""
