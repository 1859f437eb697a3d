// pulumi-language-nodejs (launchpad testbed build) is a small Node.js language host for the Pulumi CLI.
//
// Pulumi's own host (module sdk/nodejs/cmd/pulumi-language-nodejs) cannot be fetched on the testbed machine, so
// this one is written against the public sdk/v3 gRPC interface. It hands the actual work to the entry points that
// ship in the program's own @pulumi/pulumi package (cmd/run, cmd/run-policy-pack, cmd/run-plugin), the same ones
// Pulumi's host starts, so a program runs as it would on a user's machine.
//
// Deliberate differences from Pulumi's host (each is marked "Differs:" where it happens):
//   - the program gets the engine's monitor address directly: no monitor proxy and no --sync pipes
//     (see Run for why @pulumi/pulumi 3.270 does not need them);
//   - npm is the only package manager; no bun runtime, no debugger attach, no code generation, no OOM hint;
//   - GetProgramDependencies reads package.json instead of asking the package manager.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/shlex"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is set at build time with -ldflags "-X main.version=...". The default says plainly that this is not a
// Pulumi release (it stays valid semver because the CLI parses plugin versions).
var version = "0.0.0-launchpad-testbed.unversioned"

// exitAlreadyReported is the exit code @pulumi/pulumi's entry points use after they have shown the user an error.
const exitAlreadyReported = 32

func main() {
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	runtimeName := flag.String("runtime", "nodejs", "Runtime to run programs with (only nodejs is supported)")
	showVersion := flag.Bool("version", false, "Print the plugin version and exit")
	flag.Parse() // -v and -logtostderr (sent by the CLI with --logflow) are registered by glog, a dependency

	if *showVersion {
		fmt.Println(version)
		return
	}
	logging.InitLogging(false, 0, false) // reads -v and -logtostderr
	cmdutil.InitTracing("pulumi-language-nodejs", "pulumi-language-nodejs", *tracing)
	if *runtimeName != "nodejs" {
		cmdutil.Exit(fmt.Errorf("unsupported runtime: %s (this host only runs nodejs)", *runtimeName))
	}

	// The server stops on SIGINT or when the engine stops answering health checks.
	root, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	stopServer := make(chan bool)
	go func() { <-root.Done(); stop(); close(stopServer) }()

	h := newHost(root, stop, *tracing)
	if engine := flag.Arg(0); engine != "" {
		if err := h.setEngine(engine); err != nil {
			cmdutil.Exit(err)
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel:  stopServer,
		Init:    func(srv *grpc.Server) error { pulumirpc.RegisterLanguageRuntimeServer(srv, h); return nil },
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port) // the CLI reads the port from our first line of stdout
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer // every RPC not written below answers Unimplemented

	root       context.Context // lives as long as the server
	stopServer context.CancelFunc
	tracing    string
	cancelled  context.Context // done after the Cancel RPC
	cancel     context.CancelFunc

	mu     sync.Mutex
	engine string
}

func newHost(root context.Context, stopServer context.CancelFunc, tracing string) *host {
	cancelled, cancel := context.WithCancel(root)
	return &host{root: root, stopServer: stopServer, tracing: tracing, cancelled: cancelled, cancel: cancel}
}

// setEngine records the engine address and stops the server once the engine stops answering health checks.
func (h *host) setEngine(addr string) error {
	h.mu.Lock()
	h.engine = addr
	h.mu.Unlock()
	if err := rpcutil.Healthcheck(h.root, addr, 5*time.Minute, h.stopServer); err != nil {
		return fmt.Errorf("could not start health check of the engine: %w", err)
	}
	return nil
}

func (h *host) engineAddr() string { h.mu.Lock(); defer h.mu.Unlock(); return h.engine }

// Handshake is only sent when the CLI attaches to an already running host (PULUMI_DEBUG_LANGUAGES). The root and
// program directories it carries are not kept: every Run/RunPlugin request brings its own ProgramInfo.
func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.EngineAddress != "" {
		if err := h.setEngine(req.EngineAddress); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

// GetRequiredPlugins is deprecated; like Pulumi's host we answer Unimplemented so the CLI uses GetRequiredPackages.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "GetRequiredPlugins is replaced by GetRequiredPackages")
}

// GetRequiredPackages never fails: problems in single package.json files are logged, as Pulumi's host does.
// Differs: no warning about mismatched @pulumi/pulumi copies.
func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := findPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		logging.V(3).Infof("errors while looking for Pulumi packages: %v", err)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

// findPackages walks dir as Pulumi's host does: every directory below it (symlinks resolved, each real directory
// visited once, nested policy packs skipped), reading the package.json files that lie below a node_modules folder.
func findPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	var pkgs []*pulumirpc.PackageDependency
	var errs []error
	seen := map[string]bool{}
	var walk func(dir string, inNodeModules bool)
	walk = func(dir string, inNodeModules bool) {
		dir, err := filepath.Abs(dir)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if seen[dir] {
			return
		}
		seen[dir] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range entries {
			path, isDir := filepath.Join(dir, e.Name()), e.IsDir()
			if e.Type()&fs.ModeSymlink != 0 {
				if path, err = filepath.EvalSymlinks(path); err != nil {
					errs = append(errs, err)
					continue
				}
				fi, err := os.Stat(path)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				isDir = fi.IsDir()
			}
			switch {
			case isDir:
				if pack, err := workspace.DetectPolicyPackPathAt(path); err != nil || pack != "" {
					errs = append(errs, err) // a policy pack's plugins are not the program's
					continue
				}
				walk(path, inNodeModules || filepath.Base(dir) == "node_modules")
			case inNodeModules && e.Name() == "package.json":
				pkg, err := readPackage(path)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", path, err))
				} else if pkg != nil {
					pkgs = append(pkgs, pkg)
				}
			}
		}
	}
	walk(dir, false)
	return pkgs, errors.Join(errs...)
}

// readPackage returns the plugin a package.json declares with "pulumi": {"resource": true}, or nil.
func readPackage(path string) (*pulumirpc.PackageDependency, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info struct {
		Name    string                  `json:"name"`
		Version string                  `json:"version"`
		Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, err
	}
	p := info.Pulumi
	if !p.Resource {
		return nil, nil
	}
	name := p.Name
	if name == "" {
		short, ok := strings.CutPrefix(info.Name, "@pulumi/")
		if !ok || short == "" {
			return nil, fmt.Errorf("package %q must name its plugin in \"pulumi\": {\"name\": ...}", info.Name)
		}
		name = short
	}
	ver := p.Version
	if ver == "" {
		ver = info.Version
	}
	if ver == "" {
		return nil, errors.New("package.json has no version")
	}
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	param := func(j *plugin.PulumiParameterizationJSON) *pulumirpc.PackageParameterization {
		if j == nil {
			return nil
		}
		return &pulumirpc.PackageParameterization{Name: j.Name, Version: j.Version, Value: j.Value}
	}
	return &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: ver, Server: p.Server,
		Parameterization: param(p.Parameterization), Extension: param(p.ExtensionParameterization)}, nil
}

// nodeOptions are the runtime options of Pulumi.yaml that this host honours.
type nodeOptions struct {
	typescript bool   // typescript (default true): let @pulumi/pulumi load .ts through ts-node
	tsconfig   string // tsconfig: path handed to ts-node
	nodeargs   []string
}

func parseOptions(opts map[string]any) (nodeOptions, error) {
	o := nodeOptions{typescript: true}
	var nodeargs string
	err := errors.Join(option(opts, "typescript", &o.typescript), option(opts, "tsconfig", &o.tsconfig),
		option(opts, "nodeargs", &nodeargs))
	if err == nil {
		o.nodeargs, err = shlex.Split(nodeargs)
	}
	return o, err
}

// option copies opts[key] to *dst when it is set, failing when it has another type.
func option[T any](opts map[string]any, key string, dst *T) error {
	if v, ok := opts[key]; ok {
		t, ok := v.(T)
		if !ok {
			return fmt.Errorf("runtime option %s must be a %T, not %v", key, *dst, v)
		}
		*dst = t
	}
	return nil
}

// typescriptEnv is the environment @pulumi/pulumi reads for the typescript and tsconfig options.
func (o nodeOptions) typescriptEnv() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// configEnv gives PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS. Keys are sent in the old "<ns>:config:<name>" form,
// which every @pulumi/pulumi version understands, as Pulumi's host does.
func configEnv(cfg map[string]string, secretKeys []string) ([]string, error) {
	old := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return nil, err
		}
		old[key.Namespace()+":config:"+key.Name()] = v
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	c, err := json.Marshal(old)
	if err != nil {
		return nil, err
	}
	s, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(c), "PULUMI_CONFIG_SECRET_KEYS=" + string(s)}, nil
}

// runArgs is the command line of @pulumi/pulumi/cmd/run after the node options.
// Differs: no --sync. Pulumi's host serves "synchronous invokes" over a pair of pipes named by --sync; in
// @pulumi/pulumi 3.270 nothing reads them any more (runtime/settings.js defines tryGetSyncInvokes and no module
// calls it; invokes are asynchronous gRPC calls), so the pipes and the monitor proxy that fed them are left out and
// --monitor is the engine's own monitor address.
func runArgs(req *pulumirpc.RunRequest, runPath, engine, tracing string) []string {
	args := []string{runPath}
	opt := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	opt("monitor", req.GetMonitorAddress())
	opt("engine", engine)
	opt("organization", req.GetOrganization())
	opt("project", req.GetProject())
	opt("root-directory", req.GetInfo().GetRootDirectory())
	opt("stack", req.GetStack())
	opt("pwd", req.GetInfo().GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	opt("parallel", strconv.Itoa(int(req.GetParallel())))
	opt("tracing", tracing)
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// resolveModule asks node where a module lives, resolving from the program directory as require() would.
func resolveModule(ctx context.Context, node, dir, module string) (string, error) {
	script := fmt.Sprintf(`try { console.log(require.resolve(%q)) } catch (e) { console.error(e.code === `+
		`"MODULE_NOT_FOUND" ? "It looks like the Pulumi SDK has not been installed. Have you run npm install?" `+
		`: e.message); process.exit(1) }`, module)
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", errors.New(strings.TrimSpace(string(ee.Stderr)))
	} else if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Run runs the program with @pulumi/pulumi/cmd/run (or $PULUMI_LANGUAGE_NODEJS_RUN_PATH, as Pulumi's host allows).
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	fail := func(err error) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if req.GetAttachDebugger() {
		return fail(errors.New("this language host cannot attach a debugger"))
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return fail(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fail(fmt.Errorf("could not find node on the $PATH: %w", err))
	}
	module := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if module == "" {
		module = "@pulumi/pulumi/cmd/run"
	}
	runPath, err := resolveModule(ctx, node, req.GetInfo().GetProgramDirectory(), module)
	if err != nil {
		return fail(err)
	}
	cfg, err := configEnv(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return fail(fmt.Errorf("failed to serialize configuration: %w", err))
	}

	// Stop node on the Cancel RPC or when the CLI gives up on this request: SIGINT first, a kill 5 s later.
	cmdCtx, cancel := context.WithCancel(h.cancelled)
	defer cancel()
	stopAfter := context.AfterFunc(ctx, cancel)
	defer stopAfter()
	cmd := exec.CommandContext(cmdCtx, node, append(opts.nodeargs, runArgs(req, runPath, h.engineAddr(), h.tracing)...)...)
	cmd.Env = append(append(os.Environ(), cfg...), opts.typescriptEnv()...)
	// Copy node's output through pipes rather than handing it our own descriptors: node may switch its stdio to
	// non-blocking mode, which would then also apply to ours.
	cmd.Stdout, cmd.Stderr = struct{ io.Writer }{os.Stdout}, struct{ io.Writer }{os.Stderr}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()

	var ee *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &ee) && ee.ExitCode() == exitAlreadyReported:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &ee):
		return fail(fmt.Errorf("Program exited with non-zero exit code: %d", ee.ExitCode()))
	default:
		return fail(fmt.Errorf("Problem executing program (could not run language executor): %w", err))
	}
}

// pluginArgs is node's command line for RunPlugin. A policy pack takes its directory last, other plugins first.
// Differs: nodeargs go before the script, where node reads them (Pulumi's host puts them after it).
func pluginArgs(kind string, nodeargs []string, runPath, dir string, args []string) []string {
	out := append(append([]string{}, nodeargs...), runPath)
	if kind == string(apitype.AnalyzerPlugin) {
		return append(append(out, args...), dir)
	}
	return append(append(out, dir), args...)
}

// RunPlugin runs a plugin written in Node.js: policy packs (kind "analyzer") through
// @pulumi/pulumi/cmd/run-policy-pack, anything else through @pulumi/pulumi/cmd/run-plugin.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	if req.GetAttachDebugger() {
		return errors.New("this language host cannot attach a debugger")
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return err
	}
	dir, policy := req.GetInfo().GetProgramDirectory(), req.GetKind() == string(apitype.AnalyzerPlugin)
	module := "@pulumi/pulumi/cmd/run-policy-pack"
	if !policy {
		if module = os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); module == "" {
			module = "@pulumi/pulumi/cmd/run-plugin"
		}
	}
	runPath, err := resolveModule(ctx, node, dir, module)
	if err != nil {
		return err
	}
	env := req.GetEnv() // the CLI sends its whole environment
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(env, opts.typescriptEnv()...)

	// Old-style policy packs learn the stack from the environment. The policy proxy answers the engine as the
	// analyzer, waits for its stack configuration, and later forwards everything to the pack once it is up.
	var proxy *sdk.PolicyProxy
	if policy {
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get stack configuration: %w", err)
		}
		if stack != nil {
			add := func(k, v string) {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			add("PULUMI_NODEJS_ORGANIZATION", stack.Organization)
			add("PULUMI_NODEJS_PROJECT", stack.Project)
			add("PULUMI_NODEJS_STACK", stack.Stack)
			add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.DryRun))
			if stack.Config != nil {
				b, err := json.Marshal(stack.Config)
				if err != nil {
					return err
				}
				add("PULUMI_CONFIG", string(b))
			}
		}
	}

	cmd := exec.CommandContext(ctx, node, pluginArgs(req.GetKind(), opts.nodeargs, runPath, dir, req.GetArgs())...)
	cmd.Dir = req.GetPwd()
	if policy {
		cmd.Dir = dir // policy packs have always run from their own directory
	}
	cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, stderr
	if err := cmd.Start(); err != nil {
		if proxy != nil {
			proxy.Abort(err)
		}
		return fmt.Errorf("Problem executing plugin program (could not run language executor): %w", err)
	}
	if proxy != nil {
		err = proxy.Attach(ctx, cmd) // waits for the pack to exit
	} else {
		err = cmd.Wait()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("Program exited with non-zero exit code: %d", ee.ExitCode())
	} else if err != nil {
		return err
	}
	return closer.Close()
}

// InstallDependencies runs `npm install` in the program directory (what `pulumi install` asks for).
// Differs: always npm (no yarn/pnpm/bun, no workspace-root detection, no fnm).
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	var pm string
	if err := option(req.GetInfo().GetOptions().AsMap(), "packagemanager", &pm); err != nil {
		return err
	} else if pm != "" && pm != "npm" && pm != "auto" {
		return fmt.Errorf("packagemanager %s is not supported by this language host (only npm)", pm)
	}
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	cmd := exec.CommandContext(server.Context(), "npm", "install")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = struct{ io.Writer }{stdout}, struct{ io.Writer }{stderr}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install failed: %w", err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	resp := &pulumirpc.AboutResponse{Executable: node, Metadata: map[string]string{"packagemanager": "npm"}}
	if out, err := exec.CommandContext(ctx, node, "--version").Output(); err == nil {
		resp.Version = strings.TrimSpace(string(out))
	}
	return resp, nil
}

// GetProgramDependencies lists package.json's dependencies and devDependencies with the version installed in
// node_modules, or the declared range when the package is not installed.
// Differs: read from the files rather than from `npm ls`; TransitiveDependencies is ignored.
func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	deps, err := programDependencies(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func programDependencies(dir string) ([]*pulumirpc.DependencyInfo, error) {
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
		Dev          map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &manifest)
	}
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	all := map[string]string{}
	for _, m := range []map[string]string{manifest.Dev, manifest.Dependencies} {
		for name, want := range m {
			all[name] = want
			var installed struct {
				Version string `json:"version"`
			}
			if b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json")); err == nil &&
				json.Unmarshal(b, &installed) == nil && installed.Version != "" {
				all[name] = installed.Version
			}
		}
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(all))
	for name, v := range all {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: v})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return deps, nil
}
