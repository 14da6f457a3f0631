"""cnncalc: shapes, parameters and MACs of convolutional networks, derived and verified."""
