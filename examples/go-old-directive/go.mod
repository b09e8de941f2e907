module goserver

go 1.13
