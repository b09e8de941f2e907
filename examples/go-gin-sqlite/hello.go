// Distilled from github.com/gothinkster/golang-gin-realworld-example-app at
// 728cb04bfefc00982600676ea1ad70ff01c6e598 (hello.go): `go 1.15` in go.mod, gorm's sqlite dialect
// (github.com/mattn/go-sqlite3, cgo), gin's r.Run() listening on $PORT.
package main

import (
	"github.com/gin-gonic/gin"

	"github.com/gothinkster/golang-gin-realworld-example-app/common"
)

func main() {
	db := common.Init()
	defer db.Close()

	r := gin.Default()
	r.GET("/api/ping", func(c *gin.Context) {
		c.JSON(200, gin.H{"message": "pong"})
	})
	r.Run() // listen and serve on 0.0.0.0:8080
}
