"""Administration of a bureau by its admins: offices, stations, officers; the first bureau and admin."""
