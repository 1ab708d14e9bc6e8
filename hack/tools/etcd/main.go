// Command etcd runs etcd's own main function, so envtest can use an etcd built
// from the Go module proxy on machines without Debian's etcd-server package.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
