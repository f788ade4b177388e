package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
)

// Random resources: every input change replaces the resource, as in the real provider.
func randomKinds() map[string]kind {
	return map[string]kind{
		"random:index/randomPassword:RandomPassword": &randomText{secret: true},
		"random:index/randomString:RandomString":     &randomText{},
		"random:index/randomBytes:RandomBytes":       randomBytes{},
		"random:index/randomId:RandomId":             randomID{},
		"random:index/randomUuid:RandomUuid":         randomUUID{},
		"random:index/randomInteger:RandomInteger":   randomInteger{},
	}
}

func noUpdate(context.Context, resource.PropertyMap, resource.PropertyMap, bool) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("random resources are replaced, never updated")
}

func noDelete(context.Context, resource.PropertyMap) error { return nil }

func failure(prop, format string, args ...any) *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)}
}

// number reads a whole number input; ok is false when it is absent or unknown.
func number(m resource.PropertyMap, key string) (int, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsNumber() {
		return 0, false
	}
	return int(v.NumberValue()), true
}

func known(m resource.PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return !ok || !v.ContainsUnknowns()
}

// withOutputs copies the inputs and adds outputs.
func withOutputs(ins resource.PropertyMap, outs map[string]resource.PropertyValue) resource.PropertyMap {
	m := ins.Copy()
	for k, v := range outs {
		m[resource.PropertyKey(k)] = v
	}
	return m
}

func randomInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return int(v.Int64())
}

// --- RandomPassword / RandomString ----------------------------------------------------------------

type randomText struct{ secret bool }

const defaultSpecial = "!@#$%&*()-_=+[]{}<>:?"

func (randomText) inputs() []string {
	return []string{"length", "upper", "lower", "numeric", "number", "special", "minUpper", "minLower",
		"minNumeric", "minSpecial", "overrideSpecial", "keepers"}
}

func (randomText) replaceOnChange(string) bool { return true }

func (randomText) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	ins := news.Copy()
	var fails []*pulumirpc.CheckFailure
	for _, k := range []string{"upper", "lower", "special"} {
		if _, ok := ins[resource.PropertyKey(k)]; !ok {
			ins[resource.PropertyKey(k)] = resource.NewBoolProperty(true)
		}
	}
	// numeric and its deprecated alias number follow each other.
	_, hasNumeric := ins["numeric"]
	_, hasNumber := ins["number"]
	switch {
	case !hasNumeric && !hasNumber:
		ins["numeric"], ins["number"] = resource.NewBoolProperty(true), resource.NewBoolProperty(true)
	case !hasNumeric:
		ins["numeric"] = ins["number"]
	case !hasNumber:
		ins["number"] = ins["numeric"]
	}
	for _, k := range []string{"minUpper", "minLower", "minNumeric", "minSpecial"} {
		if _, ok := ins[resource.PropertyKey(k)]; !ok {
			ins[resource.PropertyKey(k)] = resource.NewNumberProperty(0)
		}
	}
	length, ok := number(ins, "length")
	switch {
	case !known(ins, "length"):
	case !ok:
		fails = append(fails, failure("length", "length is required"))
	case length < 1:
		fails = append(fails, failure("length", "length must be at least 1, got %d", length))
	default:
		sum := 0
		for _, k := range []string{"minUpper", "minLower", "minNumeric", "minSpecial"} {
			n, _ := number(ins, k)
			sum += n
		}
		if sum > length {
			fails = append(fails, failure("length", "length %d is less than the sum of the min* inputs (%d)", length, sum))
		}
	}
	return ins, fails
}

func flag(m resource.PropertyMap, key string) bool {
	v, ok := get(m, key)
	return ok && v.IsBool() && v.BoolValue()
}

func generateText(ins resource.PropertyMap) (string, error) {
	length, _ := number(ins, "length")
	special := defaultSpecial
	if v, ok := get(ins, "overrideSpecial"); ok && v.IsString() {
		special = v.StringValue()
	}
	type set struct {
		chars string
		on    bool
		min   int
	}
	minOf := func(k string) int { n, _ := number(ins, k); return n }
	sets := []set{
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", flag(ins, "upper"), minOf("minUpper")},
		{"abcdefghijklmnopqrstuvwxyz", flag(ins, "lower"), minOf("minLower")},
		{"0123456789", flag(ins, "numeric"), minOf("minNumeric")},
		{special, flag(ins, "special"), minOf("minSpecial")},
	}
	var all string
	var out []byte
	for _, s := range sets {
		if !s.on || s.chars == "" {
			continue
		}
		all += s.chars
		for i := 0; i < s.min; i++ {
			out = append(out, s.chars[randomInt(len(s.chars))])
		}
	}
	if all == "" {
		return "", fmt.Errorf("no character set is enabled (upper, lower, numeric and special are all false)")
	}
	for len(out) < length {
		out = append(out, all[randomInt(len(all))])
	}
	for i := len(out) - 1; i > 0; i-- { // Fisher-Yates, so the min* characters are not all up front
		j := randomInt(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

func (r *randomText) create(_ context.Context, _ string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	wrap := func(v resource.PropertyValue) resource.PropertyValue {
		if r.secret {
			return resource.MakeSecret(v)
		}
		return v
	}
	if preview {
		outs := map[string]resource.PropertyValue{"result": wrap(computed())}
		if r.secret {
			outs["bcryptHash"] = wrap(computed())
		}
		return "", withOutputs(ins, outs), nil
	}
	text, err := generateText(ins)
	if err != nil {
		return "", nil, err
	}
	outs := map[string]resource.PropertyValue{"result": wrap(resource.NewStringProperty(text))}
	id := text
	if r.secret {
		hash, err := bcrypt.GenerateFromPassword([]byte(text), bcrypt.DefaultCost)
		if err != nil {
			return "", nil, err
		}
		outs["bcryptHash"] = wrap(resource.NewStringProperty(string(hash)))
		id = "none"
	}
	return id, withOutputs(ins, outs), nil
}

func (randomText) update(ctx context.Context, o, n resource.PropertyMap, p bool) (resource.PropertyMap, error) {
	return noUpdate(ctx, o, n, p)
}

func (randomText) delete(ctx context.Context, o resource.PropertyMap) error { return noDelete(ctx, o) }

// --- RandomBytes --------------------------------------------------------------------------------------

type randomBytes struct{}

func (randomBytes) inputs() []string            { return []string{"length", "keepers"} }
func (randomBytes) replaceOnChange(string) bool { return true }

func (randomBytes) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	if n, ok := number(news, "length"); known(news, "length") && (!ok || n < 1) {
		return news, []*pulumirpc.CheckFailure{failure("length", "length must be at least 1")}
	}
	return news, nil
}

func (randomBytes) create(_ context.Context, _ string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", withOutputs(ins, map[string]resource.PropertyValue{
			"base64": resource.MakeSecret(computed()), "hex": resource.MakeSecret(computed()),
		}), nil
	}
	n, _ := number(ins, "length")
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	return "none", withOutputs(ins, map[string]resource.PropertyValue{
		"base64": resource.MakeSecret(resource.NewStringProperty(base64.StdEncoding.EncodeToString(b))),
		"hex":    resource.MakeSecret(resource.NewStringProperty(hex.EncodeToString(b))),
	}), nil
}

func (randomBytes) update(ctx context.Context, o, n resource.PropertyMap, p bool) (resource.PropertyMap, error) {
	return noUpdate(ctx, o, n, p)
}

func (randomBytes) delete(ctx context.Context, o resource.PropertyMap) error { return noDelete(ctx, o) }

// --- RandomId -----------------------------------------------------------------------------------------

type randomID struct{}

func (randomID) inputs() []string            { return []string{"byteLength", "prefix", "keepers"} }
func (randomID) replaceOnChange(string) bool { return true }

func (randomID) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	if n, ok := number(news, "byteLength"); known(news, "byteLength") && (!ok || n < 1) {
		return news, []*pulumirpc.CheckFailure{failure("byteLength", "byteLength must be at least 1")}
	}
	return news, nil
}

func (randomID) create(_ context.Context, _ string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	keys := []string{"b64Std", "b64Url", "dec", "hex"}
	if preview {
		outs := map[string]resource.PropertyValue{}
		for _, k := range keys {
			outs[k] = computed()
		}
		return "", withOutputs(ins, outs), nil
	}
	n, _ := number(ins, "byteLength")
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	prefix := getString(ins, "prefix")
	url := base64.RawURLEncoding.EncodeToString(b)
	outs := map[string]resource.PropertyValue{
		"b64Std": resource.NewStringProperty(prefix + base64.StdEncoding.EncodeToString(b)),
		"b64Url": resource.NewStringProperty(prefix + url),
		"dec":    resource.NewStringProperty(prefix + new(big.Int).SetBytes(b).String()),
		"hex":    resource.NewStringProperty(prefix + hex.EncodeToString(b)),
	}
	return url, withOutputs(ins, outs), nil
}

func (randomID) update(ctx context.Context, o, n resource.PropertyMap, p bool) (resource.PropertyMap, error) {
	return noUpdate(ctx, o, n, p)
}

func (randomID) delete(ctx context.Context, o resource.PropertyMap) error { return noDelete(ctx, o) }

// --- RandomUuid ---------------------------------------------------------------------------------------

type randomUUID struct{}

func (randomUUID) inputs() []string            { return []string{"keepers"} }
func (randomUUID) replaceOnChange(string) bool { return true }

func (randomUUID) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	return news, nil
}

func (randomUUID) create(_ context.Context, _ string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", withOutputs(ins, map[string]resource.PropertyValue{"result": computed()}), nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	b[6] = (b[6] & 0x0f) | 0x40 // version 4
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	u := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return u, withOutputs(ins, map[string]resource.PropertyValue{"result": resource.NewStringProperty(u)}), nil
}

func (randomUUID) update(ctx context.Context, o, n resource.PropertyMap, p bool) (resource.PropertyMap, error) {
	return noUpdate(ctx, o, n, p)
}

func (randomUUID) delete(ctx context.Context, o resource.PropertyMap) error { return noDelete(ctx, o) }

// --- RandomInteger ------------------------------------------------------------------------------------

type randomInteger struct{}

func (randomInteger) inputs() []string            { return []string{"min", "max", "seed", "keepers"} }
func (randomInteger) replaceOnChange(string) bool { return true }

func (randomInteger) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	if _, ok := get(news, "seed"); ok {
		return news, []*pulumirpc.CheckFailure{failure("seed", "seed is not implemented by Ballast's stand-in random provider")}
	}
	lo, okLo := number(news, "min")
	hi, okHi := number(news, "max")
	if known(news, "min") && known(news, "max") && (!okLo || !okHi || hi < lo) {
		return news, []*pulumirpc.CheckFailure{failure("max", "min and max are required and max must be >= min")}
	}
	return news, nil
}

func (randomInteger) create(_ context.Context, _ string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", withOutputs(ins, map[string]resource.PropertyValue{
			"result": resource.MakeComputed(resource.NewNumberProperty(0)),
		}), nil
	}
	lo, _ := number(ins, "min")
	hi, _ := number(ins, "max")
	if hi-lo >= math.MaxInt32 {
		return "", nil, fmt.Errorf("range %d..%d is too large", lo, hi)
	}
	n := lo + randomInt(hi-lo+1)
	return strconv.Itoa(n), withOutputs(ins, map[string]resource.PropertyValue{
		"result": resource.NewNumberProperty(float64(n)),
	}), nil
}

func (randomInteger) update(ctx context.Context, o, n resource.PropertyMap, p bool) (resource.PropertyMap, error) {
	return noUpdate(ctx, o, n, p)
}

func (randomInteger) delete(ctx context.Context, o resource.PropertyMap) error {
	return noDelete(ctx, o)
}
