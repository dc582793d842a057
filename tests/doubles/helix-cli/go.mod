module github.com/helixml/helix/api

go 1.19
