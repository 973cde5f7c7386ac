rotation = "2"
