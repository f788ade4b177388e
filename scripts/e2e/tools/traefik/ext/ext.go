// Package ext stands for Traefik's pkg/config/dynamic/ext module, which the published
// github.com/traefik/traefik/v3 module zip does not carry (it is a nested module, replaced by a
// local path in Traefik's go.mod). Open-source Traefik embeds these types with no fields: they
// are extension points of the dynamic configuration, so empty structs build the same Traefik.
package ext

// HTTP extends dynamic.HTTP (embedded inline; no fields in open-source Traefik).
type HTTP struct{}

// Router extends dynamic.Router (embedded inline; no fields in open-source Traefik).
type Router struct{}
