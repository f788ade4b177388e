// Command ballast-standin-provider is a Pulumi resource provider plugin that stands in for the
// random and command providers on machines where their Go modules cannot be fetched.
//
// It takes its personality from the name it is run under (pulumi-resource-random or
// pulumi-resource-command) and implements only the part of each schema that Ballast uses; any other
// resource type fails its Check with a message that names the missing real provider. Its version is
// linked in by scripts/toolchain.sh (or read from the plugin directory, plugins/resource-NAME-vVERSION),
// so the engine sees the version that the npm SDK asked for.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// kind is one resource type of a stand-in provider.
type kind interface {
	// inputs lists the input property names, in schema spelling.
	inputs() []string
	// check validates new inputs and fills in defaults.
	check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure)
	// replaceOnChange tells whether a change of that input replaces the resource.
	replaceOnChange(key string) bool
	// create returns the resource's id and outputs; in a preview, unknown outputs are computed values.
	create(ctx context.Context, urn string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error)
	// update returns the outputs after an in-place change.
	update(ctx context.Context, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error)
	// delete removes the resource.
	delete(ctx context.Context, outs resource.PropertyMap) error
}

// invoker is a provider function (an invoke such as command:local:run).
type invoker func(ctx context.Context, args resource.PropertyMap) (resource.PropertyMap, error)

type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	name      string
	version   string
	kinds     map[string]kind
	invokes   map[string]invoker
	unmanaged string // message for a resource type of the real provider that the stand-in lacks
}

var marshal = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, marshal)
}

func (s *server) kindOf(typ, urn string) (kind, error) {
	if typ == "" {
		// URN: urn:pulumi:stack::project::[parent$]type::name
		parts := strings.Split(urn, "::")
		if len(parts) >= 3 {
			types := strings.Split(parts[2], "$")
			typ = types[len(types)-1]
		}
	}
	if k, ok := s.kinds[typ]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%s: %s", typ, s.unmanaged)
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{
		Schema: fmt.Sprintf(`{"name":%q,"version":%q,"description":"Ballast stand-in provider"}`, s.name, s.version),
	}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *server) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	fn, ok := s.invokes[req.GetTok()]
	if !ok {
		return nil, fmt.Errorf("%s: %s", req.GetTok(), s.unmanaged)
	}
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	outs, err := fn(ctx, args)
	if err != nil {
		return nil, err
	}
	ret, err := plugin.MarshalProperties(outs, marshal)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	k, err := s.kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return &pulumirpc.CheckResponse{Failures: []*pulumirpc.CheckFailure{{Reason: err.Error()}}}, nil
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ins, failures := k.check(news)
	out, err := plugin.MarshalProperties(ins, marshal)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: out, Failures: failures}, nil
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	k, err := s.kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if req.GetOldInputs() == nil {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, key := range req.GetIgnoreChanges() {
		ignored[key] = true
	}
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
		HasDetailedDiff: true,
	}
	for _, key := range k.inputs() {
		if ignored[key] {
			continue
		}
		o, hasOld := olds[resource.PropertyKey(key)]
		n, hasNew := news[resource.PropertyKey(key)]
		if !hasOld && !hasNew {
			continue
		}
		if hasOld && hasNew && !n.ContainsUnknowns() && o.DeepEquals(n) {
			continue
		}
		replace := k.replaceOnChange(key)
		pd := &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE}
		switch {
		case !hasOld:
			pd.Kind = pulumirpc.PropertyDiff_ADD
		case !hasNew:
			pd.Kind = pulumirpc.PropertyDiff_DELETE
		}
		if replace {
			pd.Kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
			resp.Replaces = append(resp.Replaces, key)
		}
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = append(resp.Diffs, key)
		resp.DetailedDiff[key] = pd
	}
	sort.Strings(resp.Diffs)
	return resp, nil
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := s.kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	ins, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	id, outs, err := k.create(ctx, req.GetUrn(), ins, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := plugin.MarshalProperties(outs, marshal)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Read keeps the recorded state: these resources have nothing outside Pulumi's state to refresh from.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, err := s.kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	outs, err := k.update(ctx, olds, news, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := plugin.MarshalProperties(outs, marshal)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	k, err := s.kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	outs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, k.delete(ctx, outs)
}

// version is set at link time (-X main.version=...) to the plugin version that the npm SDK asks for.
var version string

// pluginVersion is the linked-in version, else the one in the plugin directory name (resource-NAME-vVERSION).
func pluginVersion(name string) string {
	if version != "" {
		return version
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	dir := filepath.Base(filepath.Dir(exe))
	m := regexp.MustCompile(`^resource-` + regexp.QuoteMeta(name) + `-v(.+)$`).FindStringSubmatch(dir)
	if m == nil {
		return ""
	}
	return m[1]
}

func main() {
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	name := strings.TrimPrefix(base, "pulumi-resource-")
	s := &server{name: name, version: pluginVersion(name)}
	switch name {
	case "random":
		s.kinds = randomKinds()
		s.unmanaged = "not implemented by Ballast's stand-in random provider (the real pulumi-random module is not served here)"
	case "command":
		s.kinds = commandKinds()
		s.invokes = map[string]invoker{"command:local:run": commandRun}
		s.unmanaged = "not implemented by Ballast's stand-in command provider (the real pulumi-command module is not served here)"
	default:
		fmt.Fprintf(os.Stderr, "ballast-standin-provider: run it as pulumi-resource-random or pulumi-resource-command, not %q\n", base)
		os.Exit(2)
	}
	if err := provider.Main(name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return s, nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// --- property helpers -------------------------------------------------------------------------------

// plain returns a value without its secret wrapper, and whether it was secret.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for v.IsSecret() {
		v = v.SecretValue().Element
		secret = true
	}
	return v, secret
}

func get(m resource.PropertyMap, key string) (resource.PropertyValue, bool) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || v.IsNull() {
		return resource.PropertyValue{}, false
	}
	v, _ = plain(v)
	return v, !v.IsNull()
}

func getString(m resource.PropertyMap, key string) string {
	if v, ok := get(m, key); ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func getStrings(m resource.PropertyMap, key string) []string {
	v, ok := get(m, key)
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e, _ = plain(e); e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func getStringMap(m resource.PropertyMap, key string) map[string]string {
	v, ok := get(m, key)
	if !ok || !v.IsObject() {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		if e, _ = plain(e); e.IsString() {
			out[string(k)] = e.StringValue()
		}
	}
	return out
}

// anySecret tells whether any of the named inputs is secret.
func anySecret(m resource.PropertyMap, keys ...string) bool {
	for _, k := range keys {
		if v, ok := m[resource.PropertyKey(k)]; ok && v.ContainsSecrets() {
			return true
		}
	}
	return false
}

func computed() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}
