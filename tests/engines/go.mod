module github.com/rt-runtime/rt/tests/engines

go 1.26.8

require (
	golang.org/x/sys v0.50.0
	google.golang.org/grpc v1.56.3
	k8s.io/cri-api v0.27.16
)

require (
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	golang.org/x/net v0.48.0 // indirect
	golang.org/x/text v0.32.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
