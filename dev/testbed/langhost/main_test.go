package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindPackages(t *testing.T) {
	dir := t.TempDir()
	nm := filepath.Join(dir, "node_modules")
	// Found: @pulumi scope gives the name, package version gets a "v".
	write(t, filepath.Join(nm, "@pulumi/kubernetes/package.json"),
		`{"name":"@pulumi/kubernetes","version":"4.25.0","pulumi":{"resource":true}}`)
	// Found: explicit name, version, server, parameterization (value is base64 in JSON).
	write(t, filepath.Join(nm, "third/package.json"), `{"name":"third","version":"1.0.0","pulumi":{"resource":true,
		"name":"thirdplugin","version":"v2.0.0","server":"https://example.invalid",
		"parameterization":{"name":"p","version":"0.1.0","value":"aGk="}}}`)
	// Not a plugin.
	write(t, filepath.Join(nm, "@pulumi/pulumi/package.json"), `{"name":"@pulumi/pulumi","version":"3.270.0"}`)
	write(t, filepath.Join(nm, "left-pad/package.json"), `{"name":"left-pad","version":"1.3.0"}`)
	// Error: third-party plugin without pulumi.name (reported, walk goes on).
	write(t, filepath.Join(nm, "noname/package.json"), `{"name":"noname","version":"1.0.0","pulumi":{"resource":true}}`)
	// Nested node_modules is walked.
	write(t, filepath.Join(nm, "@pulumi/kubernetes/node_modules/@pulumi/random/package.json"),
		`{"name":"@pulumi/random","version":"4.21.2","pulumi":{"resource":true}}`)
	// A nested policy pack is skipped with everything below it.
	write(t, filepath.Join(dir, "policy/PulumiPolicy.yaml"), "runtime: nodejs\n")
	write(t, filepath.Join(dir, "policy/node_modules/@pulumi/aws/package.json"),
		`{"name":"@pulumi/aws","version":"7.0.0","pulumi":{"resource":true}}`)
	// package.json outside node_modules is not a dependency.
	write(t, filepath.Join(dir, "package.json"), `{"name":"@pulumi/self","version":"1.0.0","pulumi":{"resource":true}}`)
	// Symlinks: one to a package outside the program (followed), one loop back to node_modules (visited once).
	outside := t.TempDir()
	write(t, filepath.Join(outside, "linked/package.json"),
		`{"name":"@pulumi/docker","version":"5.2.0","pulumi":{"resource":true}}`)
	if err := os.Symlink(filepath.Join(outside, "linked"), filepath.Join(nm, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(nm, filepath.Join(nm, "loop")); err != nil {
		t.Fatal(err)
	}
	// Like Pulumi's host: a directory is visited once, so a link to a package inside the program that the walk
	// already passed outside node_modules ("components" < "node_modules") is not read again.
	write(t, filepath.Join(dir, "components/local/package.json"),
		`{"name":"@pulumi/local","version":"1.0.0","pulumi":{"resource":true}}`)
	if err := os.Symlink(filepath.Join(dir, "components/local"), filepath.Join(nm, "local")); err != nil {
		t.Fatal(err)
	}

	pkgs, err := findPackages(dir)
	if err == nil || !strings.Contains(err.Error(), "noname") {
		t.Errorf("want an error about noname, got %v", err)
	}
	got := map[string]*pulumirpc.PackageDependency{}
	var names []string
	for _, p := range pkgs {
		if got[p.Name] != nil {
			t.Errorf("%s reported twice", p.Name)
		}
		got[p.Name] = p
		names = append(names, p.Name+"@"+p.Version)
	}
	sort.Strings(names)
	want := []string{"docker@v5.2.0", "kubernetes@v4.25.0", "random@v4.21.2", "thirdplugin@v2.0.0"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("packages = %v, want %v", names, want)
	}
	tp := got["thirdplugin"]
	if tp.Kind != "resource" || tp.Server != "https://example.invalid" || tp.Parameterization == nil ||
		tp.Parameterization.Name != "p" || string(tp.Parameterization.Value) != "hi" {
		t.Errorf("thirdplugin = %v", tp)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil)
	if err != nil || !o.typescript || o.tsconfig != "" || len(o.nodeargs) != 0 {
		t.Errorf("defaults: %+v %v", o, err)
	}
	if env := o.typescriptEnv(); !reflect.DeepEqual(env, []string{"PULUMI_NODEJS_TYPESCRIPT=true"}) {
		t.Errorf("default env %v", env)
	}
	o, err = parseOptions(map[string]any{"typescript": false, "tsconfig": "tsconfig.prod.json",
		"nodeargs": `--max-old-space-size=4096 --require "a b.js"`, "packagemanager": "npm"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.nodeargs, []string{"--max-old-space-size=4096", "--require", "a b.js"}) {
		t.Errorf("nodeargs %q", o.nodeargs)
	}
	if env := o.typescriptEnv(); !reflect.DeepEqual(env, []string{"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.prod.json"}) {
		t.Errorf("env %v", env)
	}
	for _, bad := range []map[string]any{{"typescript": "no"}, {"nodeargs": 3}, {"nodeargs": `"open`}} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("%v: want error", bad)
		}
	}
}

func TestConfigEnv(t *testing.T) {
	env, err := configEnv(map[string]string{"launchpad:platform": "kind", "kubernetes:context": "kind-x",
		"aws:config:region": "eu"}, []string{"launchpad:dbPassword"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.TrimPrefix(env[0], "PULUMI_CONFIG=")
	var m map[string]string
	if err := json.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"launchpad:config:platform": "kind", "kubernetes:config:context": "kind-x",
		"aws:config:region": "eu"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("config %v", m)
	}
	if env[1] != `PULUMI_CONFIG_SECRET_KEYS=["launchpad:dbPassword"]` {
		t.Errorf("secret keys %s", env[1])
	}
	env, _ = configEnv(nil, nil)
	if !reflect.DeepEqual(env, []string{"PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]"}) {
		t.Errorf("empty: %v", env)
	}
	if _, err := configEnv(map[string]string{"nonamespace": "x"}, nil); err == nil {
		t.Error("want error for a key without namespace")
	}
}

func TestRunArgs(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1", Organization: "organization", Project: "launchpad", Stack: "dev",
		DryRun: true, Parallel: 16, Args: []string{"x"},
		Info: &pulumirpc.ProgramInfo{RootDirectory: "/p", ProgramDirectory: "/p", EntryPoint: "tools/launch/main.js"},
	}
	got := runArgs(req, "/p/node_modules/@pulumi/pulumi/cmd/run/index.js", "127.0.0.1:2", "")
	want := []string{"/p/node_modules/@pulumi/pulumi/cmd/run/index.js", "--monitor", "127.0.0.1:1",
		"--engine", "127.0.0.1:2", "--organization", "organization", "--project", "launchpad",
		"--root-directory", "/p", "--stack", "dev", "--pwd", "/p", "--dry-run", "--parallel", "16",
		"tools/launch/main.js", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	req.DryRun, req.Organization, req.Args = false, "", nil
	got = runArgs(req, "run", "", "http://trace")
	want = []string{"run", "--monitor", "127.0.0.1:1", "--project", "launchpad", "--root-directory", "/p",
		"--stack", "dev", "--pwd", "/p", "--parallel", "16", "--tracing", "http://trace", "tools/launch/main.js"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestPluginArgs(t *testing.T) {
	got := pluginArgs("analyzer", []string{"--inspect"}, "rpp.js", "/pack", []string{"127.0.0.1:5"})
	if want := []string{"--inspect", "rpp.js", "127.0.0.1:5", "/pack"}; !reflect.DeepEqual(got, want) {
		t.Errorf("analyzer: %q", got)
	}
	got = pluginArgs("resource", nil, "rp.js", "/plug", []string{"a", "b"})
	if want := []string{"rp.js", "/plug", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("resource: %q", got)
	}
}

func TestProgramDependencies(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "package.json"),
		`{"dependencies":{"@pulumi/pulumi":"^3.270.0","missing":"^1.0.0"},"devDependencies":{"typescript":"^5.9.3"}}`)
	write(t, filepath.Join(dir, "node_modules/@pulumi/pulumi/package.json"), `{"version":"3.270.0"}`)
	write(t, filepath.Join(dir, "node_modules/typescript/package.json"), `{"version":"5.9.3"}`)
	deps, err := programDependencies(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, d.Name+"="+d.Version)
	}
	if want := []string{"@pulumi/pulumi=3.270.0", "missing=^1.0.0", "typescript=5.9.3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("deps %v", got)
	}
}

// TestRunExitCodes runs Run against a stand-in for @pulumi/pulumi/cmd/run (PULUMI_LANGUAGE_NODEJS_RUN_PATH) that
// records its command line and environment, then exits with the code the test asks for.
func TestRunExitCodes(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "seen.json")
	write(t, filepath.Join(dir, "fake-run.js"), `require("fs").writeFileSync(process.env.SEEN, JSON.stringify({
		argv: process.argv.slice(2), config: process.env.PULUMI_CONFIG, ts: process.env.PULUMI_NODEJS_TYPESCRIPT || ""}));
		process.exit(Number(process.env.EXIT_WITH));`)
	t.Setenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH", filepath.Join(dir, "fake-run.js"))
	t.Setenv("SEEN", out)
	h := newHost(context.Background(), func() {}, "")
	opts, _ := structpb.NewStruct(map[string]any{"typescript": false, "nodeargs": "--no-warnings"})
	req := &pulumirpc.RunRequest{MonitorAddress: "127.0.0.1:1", Project: "p", Stack: "s",
		Config: map[string]string{"p:k": "v"},
		Info:   &pulumirpc.ProgramInfo{RootDirectory: dir, ProgramDirectory: dir, EntryPoint: ".", Options: opts}}

	for code, want := range map[string]*pulumirpc.RunResponse{
		"0":  {},
		"32": {Bail: true},
		"3":  {Error: "Program exited with non-zero exit code: 3"},
	} {
		t.Setenv("EXIT_WITH", code)
		resp, err := h.Run(context.Background(), req)
		if err != nil || resp.Error != want.Error || resp.Bail != want.Bail {
			t.Errorf("exit %s: resp %v err %v", code, resp, err)
		}
	}
	var seen struct {
		Argv   []string `json:"argv"`
		Config string   `json:"config"`
		TS     string   `json:"ts"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &seen); err != nil {
		t.Fatal(err)
	}
	if seen.Config != `{"p:config:k":"v"}` || seen.TS != "" || seen.Argv[0] != "--monitor" ||
		seen.Argv[len(seen.Argv)-1] != "." {
		t.Errorf("seen %+v", seen)
	}
}
