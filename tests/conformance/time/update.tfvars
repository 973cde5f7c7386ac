offset_hours = 3
