"""Product command lines (`wonderland-generate`)."""
