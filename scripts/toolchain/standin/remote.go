package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// remoteCommand is command:remote:Command: the same life cycle as local.Command, run over SSH.
type remoteCommand struct{}

var remoteInputs = []string{"connection", "create", "update", "delete", "environment", "stdin", "triggers",
	"logging", "addPreviousOutputInEnv"}

func (remoteCommand) inputs() []string { return remoteInputs }

func (remoteCommand) replaceOnChange(key string) bool { return key == "triggers" }

func (remoteCommand) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	if !known(news, "connection") {
		return news, nil
	}
	c, ok := get(news, "connection")
	if !ok || !c.IsObject() {
		return news, []*pulumirpc.CheckFailure{failure("connection", "connection is required")}
	}
	if !c.ContainsUnknowns() {
		if _, err := parseConnection(c.ObjectValue()); err != nil {
			return news, []*pulumirpc.CheckFailure{failure("connection", "%v", err)}
		}
	}
	return news, nil
}

// connection is the SSH connection of @pulumi/command 1.x, with its defaults.
type connection struct {
	host, user, password, privateKey, privateKeyPassword, agentSocketPath, hostKey string
	port, dialErrorLimit, perDialTimeout                                           int
}

func parseConnection(m resource.PropertyMap) (connection, error) {
	c := connection{
		host:               getString(m, "host"),
		user:               getString(m, "user"),
		password:           getString(m, "password"),
		privateKey:         getString(m, "privateKey"),
		privateKeyPassword: getString(m, "privateKeyPassword"),
		agentSocketPath:    getString(m, "agentSocketPath"),
		hostKey:            getString(m, "hostKey"),
		port:               22,
		dialErrorLimit:     10,
		perDialTimeout:     15,
	}
	if c.host == "" {
		return c, errors.New("connection.host is required")
	}
	if _, ok := get(m, "proxy"); ok {
		return c, errors.New("connection.proxy is not implemented by Ballast's stand-in command provider")
	}
	if c.user == "" {
		c.user = "root"
	}
	if n, ok := number(m, "port"); ok {
		c.port = n
	}
	if n, ok := number(m, "dialErrorLimit"); ok {
		c.dialErrorLimit = n
	}
	if n, ok := number(m, "perDialTimeout"); ok {
		c.perDialTimeout = n
	}
	if c.hostKey != "" {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.hostKey)); err != nil {
			return c, fmt.Errorf("connection.hostKey is not a public key in authorized_keys format: %w", err)
		}
	}
	return c, nil
}

// dial connects with the connection's credentials: the private key, the password, and the SSH agent
// (agentSocketPath, else SSH_AUTH_SOCK). With hostKey, only that host key is accepted; without it,
// any (as the real provider does). A network error is retried up to dialErrorLimit times (-1: no
// limit); an authentication or host key failure is not.
func (c connection) dial(ctx context.Context) (*ssh.Client, error) {
	var auths []ssh.AuthMethod
	if c.privateKey != "" {
		var signer ssh.Signer
		var err error
		if c.privateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.privateKey), []byte(c.privateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.privateKey))
		}
		if err != nil {
			return nil, fmt.Errorf("connection.privateKey: %w", err)
		}
		auths = append(auths, ssh.PublicKeys(signer))
	}
	if c.password != "" {
		pw := c.password
		auths = append(auths, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	sock := c.agentSocketPath
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			defer conn.Close()
			auths = append(auths, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	hostKeyCallback := ssh.InsecureIgnoreHostKey() //nolint:gosec // the real provider's behaviour without hostKey
	if c.hostKey != "" {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.hostKey))
		if err != nil {
			return nil, err
		}
		hostKeyCallback = ssh.FixedHostKey(pub)
	}
	config := &ssh.ClientConfig{
		User:            c.user,
		Auth:            auths,
		HostKeyCallback: hostKeyCallback,
		Timeout:         time.Duration(c.perDialTimeout) * time.Second,
	}
	addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	var lastErr error
	for attempt := 1; c.dialErrorLimit < 0 || attempt <= max(c.dialErrorLimit, 1); attempt++ {
		client, err := ssh.Dial("tcp", addr, config)
		if err == nil {
			return client, nil
		}
		lastErr = err
		var netErr net.Error
		if !errors.As(err, &netErr) {
			break // authentication or host key: trying again will not help
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(min(attempt, 5)) * time.Second):
		}
	}
	return nil, fmt.Errorf("ssh %s@%s: %w", c.user, addr, lastErr)
}

// runRemote runs one command line over SSH, with stdin and the environment (set with the SSH
// protocol's env requests, which sshd refuses for variables its AcceptEnv does not list).
func runRemote(ctx context.Context, ins resource.PropertyMap, script string, extraEnv map[string]string) (string, string, error) {
	cv, _ := get(ins, "connection")
	c, err := parseConnection(cv.ObjectValue())
	if err != nil {
		return "", "", err
	}
	client, err := c.dial(ctx)
	if err != nil {
		return "", "", err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return "", "", err
	}
	defer session.Close()
	env := getStringMap(ins, "environment")
	for k, v := range extraEnv {
		if env == nil {
			env = map[string]string{}
		}
		env[k] = v
	}
	for k, v := range env {
		if err := session.Setenv(k, v); err != nil {
			return "", "", fmt.Errorf("setting %s in the remote environment (is it in sshd's AcceptEnv?): %w", k, err)
		}
	}
	if stdin := getString(ins, "stdin"); stdin != "" {
		session.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	session.Stdout, session.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- session.Run(script) }()
	select {
	case <-ctx.Done():
		_ = session.Close()
		return "", "", ctx.Err()
	case err = <-done:
	}
	out, errOut := strings.TrimRight(stdout.String(), "\n"), strings.TrimRight(stderr.String(), "\n")
	if err != nil {
		return out, errOut, fmt.Errorf("%w: running %q on %s:\nStdout:\n%s\nStderr:\n%s", err, script, c.host, out, errOut)
	}
	return out, errOut, nil
}

func (remoteCommand) create(ctx context.Context, urn string, ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", commandOutputs(ins, computed(), computed()), nil
	}
	name := urn[strings.LastIndex(urn, "::")+2:]
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", nil, err
	}
	var stdout, stderr string
	if script := getString(ins, "create"); script != "" {
		var err error
		if stdout, stderr, err = runRemote(ctx, ins, script, nil); err != nil {
			return "", nil, err
		}
	}
	return name + "-" + hex.EncodeToString(suffix),
		commandOutputs(ins, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)), nil
}

func (remoteCommand) update(ctx context.Context, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
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
		if stdout, stderr, err = runRemote(ctx, news, script, previousOutput(news, olds)); err != nil {
			return nil, err
		}
	}
	return commandOutputs(news, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)), nil
}

func (remoteCommand) delete(ctx context.Context, outs resource.PropertyMap) error {
	script := getString(outs, "delete")
	if script == "" {
		return nil
	}
	_, _, err := runRemote(ctx, outs, script, previousOutput(outs, outs))
	return err
}
