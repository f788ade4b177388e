// Ballast's stand-in provider plugins (random, command): used only where the real provider module
// cannot be fetched from the Go module proxy. scripts/toolchain.sh tidies a copy of this module in
// its cache; no go.sum is kept here.
module ballast.local/toolchain/standin

go 1.25.11

require (
	github.com/pulumi/pulumi/sdk/v3 v3.276.0
	golang.org/x/crypto v0.55.0
	google.golang.org/protobuf v1.36.12
)
