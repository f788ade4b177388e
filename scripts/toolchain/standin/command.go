package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// commandKinds: command:local:Command and command:remote:Command (remote.go). Their triggers replace
// them; any other input change updates them in place by running `update` (or `create` again when
// there is no `update`).
func commandKinds() map[string]kind {
	return map[string]kind{"command:local:Command": localCommand{}, "command:remote:Command": remoteCommand{}}
}

type localCommand struct{}

// The inputs of @pulumi/command 1.x (and the subset that older SDKs have). `logging` is accepted and
// has no effect: the stand-in does not stream output to the engine.
var localInputs = []string{"create", "update", "delete", "dir", "environment", "interpreter", "stdin", "triggers",
	"assetPaths", "archivePaths", "addPreviousOutputInEnv", "logging"}

func (localCommand) inputs() []string { return localInputs }

func (localCommand) replaceOnChange(key string) bool { return key == "triggers" }

func (localCommand) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	var fails []*pulumirpc.CheckFailure
	for _, k := range []string{"assetPaths", "archivePaths"} {
		if _, ok := get(news, k); ok {
			fails = append(fails, failure(k, "%s is not implemented by Ballast's stand-in command provider", k))
		}
	}
	return news, fails
}

// run runs one command line the way the real provider does: through the interpreter (default
// /bin/sh -c), in dir, with the environment added to the plugin's own, and with trailing newlines of
// stdout and stderr trimmed.
func run(ctx context.Context, ins resource.PropertyMap, script string, extraEnv map[string]string) (string, string, error) {
	interp := getStrings(ins, "interpreter")
	if len(interp) == 0 {
		interp = []string{"/bin/sh", "-c"}
	}
	cmd := exec.CommandContext(ctx, interp[0], append(interp[1:], script)...) //nolint:gosec // running it is the point
	cmd.Dir = getString(ins, "dir")
	cmd.Env = os.Environ()
	for k, v := range getStringMap(ins, "environment") {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range extraEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if stdin := getString(ins, "stdin"); stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out, errOut := strings.TrimRight(stdout.String(), "\n"), strings.TrimRight(stderr.String(), "\n")
	if err != nil {
		return out, errOut, fmt.Errorf("%w: running %q:\nStdout:\n%s\nStderr:\n%s", err, script, out, errOut)
	}
	return out, errOut, nil
}

// outputs are the inputs plus stdout and stderr, secret when any input that shapes them is secret.
func commandOutputs(ins resource.PropertyMap, stdout, stderr resource.PropertyValue) resource.PropertyMap {
	if anySecret(ins, "create", "update", "environment", "stdin") {
		stdout, stderr = resource.MakeSecret(stdout), resource.MakeSecret(stderr)
	}
	return withOutputs(ins, map[string]resource.PropertyValue{"stdout": stdout, "stderr": stderr})
}

func (localCommand) create(ctx context.Context, urn string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", commandOutputs(ins, computed(), computed()), nil
	}
	name := urn[strings.LastIndex(urn, "::")+2:]
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", nil, err
	}
	id := name + "-" + hex.EncodeToString(suffix)
	var stdout, stderr string
	if script := getString(ins, "create"); script != "" {
		var err error
		if stdout, stderr, err = run(ctx, ins, script, nil); err != nil {
			return "", nil, err
		}
	}
	return id, commandOutputs(ins, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)), nil
}

// previousOutput is the environment with the previous stdout and stderr, unless addPreviousOutputInEnv
// is false.
func previousOutput(ins, outs resource.PropertyMap) map[string]string {
	if v, ok := get(ins, "addPreviousOutputInEnv"); ok && v.IsBool() && !v.BoolValue() {
		return nil
	}
	return map[string]string{
		"PULUMI_COMMAND_STDOUT": getString(outs, "stdout"),
		"PULUMI_COMMAND_STDERR": getString(outs, "stderr"),
	}
}

func (localCommand) update(ctx context.Context, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	if preview {
		return commandOutputs(news, computed(), computed()), nil
	}
	script := getString(news, "update")
	if script == "" {
		script = getString(news, "create")
	}
	var stdout, stderr string
	if script != "" {
		var err error
		stdout, stderr, err = run(ctx, news, script, previousOutput(news, olds))
		if err != nil {
			return nil, err
		}
	}
	return commandOutputs(news, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)), nil
}

func (localCommand) delete(ctx context.Context, outs resource.PropertyMap) error {
	script := getString(outs, "delete")
	if script == "" {
		return nil
	}
	_, _, err := run(ctx, outs, script, previousOutput(outs, outs))
	return err
}

// commandRun is the command:local:run function.
func commandRun(ctx context.Context, args resource.PropertyMap) (resource.PropertyMap, error) {
	for _, k := range []string{"assetPaths", "archivePaths"} {
		if _, ok := get(args, k); ok {
			return nil, fmt.Errorf("%s is not implemented by Ballast's stand-in command provider", k)
		}
	}
	stdout, stderr, err := run(ctx, args, getString(args, "command"), nil)
	if err != nil {
		return nil, err
	}
	return withOutputs(args, map[string]resource.PropertyValue{
		"stdout": resource.NewStringProperty(stdout), "stderr": resource.NewStringProperty(stderr),
	}), nil
}
