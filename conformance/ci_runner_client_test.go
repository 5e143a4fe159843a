package conformance

// A protocol-faithful test runner: the calls of gitlab-ci-multi-runner 1.x
// (reference/runner-protocol.md), with its JSON field by field, its
// User-Agent, and its strictness: on the status it expects, an answer whose
// Content-Type is not exactly application/json fails (runners ≤ 1.x compare
// the string).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// runnerUserAgent is what gitlab-ci-multi-runner 1.1 sends.
const runnerUserAgent = "gitlab-ci-multi-runner 1.1.0 (1-1-stable; go1.5.1; linux/amd64)"

// versionInfo is the runner's common.VersionInfo; features is serialized
// under the key "features" (the client's tag typo for artifacts included).
type versionInfo struct {
	Name         string       `json:"name,omitempty"`
	Version      string       `json:"version,omitempty"`
	Revision     string       `json:"revision,omitempty"`
	Platform     string       `json:"platform,omitempty"`
	Architecture string       `json:"architecture,omitempty"`
	Executor     string       `json:"executor,omitempty"`
	Features     featuresInfo `json:"features"`
}

// featuresInfo is the runner's common.FeaturesInfo; Artifacts is tagged
// "features" in the client, a typo kept on the wire.
type featuresInfo struct {
	Variables bool `json:"variables"`
	Image     bool `json:"image"`
	Services  bool `json:"services"`
	Artifacts bool `json:"features"`
	Cache     bool `json:"cache"`
}

var shellRunnerInfo = versionInfo{Name: "gitlab-ci-multi-runner", Version: "1.1.0", Revision: "1-1-stable",
	Platform: "linux", Architecture: "amd64", Executor: "shell",
	Features: featuresInfo{Variables: true, Artifacts: true, Cache: true}}

// Request bodies as the runner marshals them.
type registerRunnerRequest struct {
	Info        versionInfo `json:"info,omitempty"`
	Token       string      `json:"token,omitempty"`
	Description string      `json:"description,omitempty"`
	Tags        string      `json:"tag_list,omitempty"`
}

type deleteRunnerRequest struct {
	Token string `json:"token,omitempty"`
}

type getBuildRequest struct {
	Info  versionInfo `json:"info,omitempty"`
	Token string      `json:"token,omitempty"`
}

type updateBuildRequest struct {
	Info  versionInfo `json:"info,omitempty"`
	Token string      `json:"token,omitempty"`
	State string      `json:"state,omitempty"`
	Trace *string     `json:"trace,omitempty"`
}

// buildPayload is the runner's GetBuildResponse.
type buildPayload struct {
	ID              int                    `json:"id"`
	ProjectID       int                    `json:"project_id"`
	Commands        string                 `json:"commands"`
	RepoURL         string                 `json:"repo_url"`
	Sha             string                 `json:"sha"`
	RefName         string                 `json:"ref"`
	BeforeSha       string                 `json:"before_sha"`
	AllowGitFetch   bool                   `json:"allow_git_fetch"`
	Timeout         int                    `json:"timeout"`
	Variables       []buildVariable        `json:"variables"`
	Options         map[string]interface{} `json:"options"`
	Token           string                 `json:"token"`
	Name            string                 `json:"name"`
	Stage           string                 `json:"stage"`
	Tag             bool                   `json:"tag"`
	DependsOnBuilds []buildInfo            `json:"depends_on_builds"`
}

type buildVariable struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Public bool   `json:"public"`
}

type buildInfo struct {
	ID            int    `json:"id"`
	Sha           string `json:"sha"`
	RefName       string `json:"ref"`
	Token         string `json:"token"`
	Name          string `json:"name"`
	Stage         string `json:"stage"`
	Tag           bool   `json:"tag"`
	ArtifactsFile *struct {
		Filename string `json:"filename"`
		Size     int64  `json:"size"`
	} `json:"artifacts_file"`
}

// testCIRunner speaks to one coordinator mount as a runner.
type testCIRunner struct {
	t     testing.TB
	url   string // the coordinator URL + "/api/v1", e.g. http://host/ci/api/v1
	token string // the runner token, once registered
	ua    string
}

func newTestCIRunner(t testing.TB, mount string) *testCIRunner {
	return &testCIRunner{t: t, url: env.base + mount, ua: runnerUserAgent}
}

// send makes one call; when the answer has the expected status and the
// call reads a body, its Content-Type must be exactly application/json.
func (r *testCIRunner) send(method, path string, body io.Reader, ctype string, hdr http.Header, expect int, readsBody bool) response {
	r.t.Helper()
	req, err := http.NewRequestWithContext(withTest(context.Background(), r.t), method, r.url+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("User-Agent", r.ua)
	if readsBody {
		req.Header.Set("Accept", "application/json")
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := env.http.Do(req)
	if err != nil {
		r.t.Fatalf("runner: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == expect && readsBody {
		if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
			r.t.Errorf("runner: %s %s -> %d with Content-Type %q: a 1.x runner rejects it (wants exactly application/json)",
				method, path, resp.StatusCode, ct)
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (r *testCIRunner) sendJSON(method, path string, v any, expect int, readsBody bool) response {
	r.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.send(method, path, bytes.NewReader(b), "application/json", nil, expect, readsBody)
}

// register is call 1: POST /runners/register.json.
func (r *testCIRunner) register(regToken, description, tags string) response {
	r.t.Helper()
	resp := r.sendJSON("POST", "/runners/register.json", registerRunnerRequest{Info: shellRunnerInfo,
		Token: regToken, Description: description, Tags: tags}, http.StatusCreated, true)
	if resp.status == http.StatusCreated {
		var out struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(resp.body, &out); err != nil || out.Token == "" {
			r.t.Fatalf("runner: register answered %s", resp.body)
		}
		r.token = out.Token
	}
	return resp
}

// unregister is call 2: DELETE /runners/delete.
func (r *testCIRunner) unregister() response {
	return r.sendJSON("DELETE", "/runners/delete", deleteRunnerRequest{Token: r.token}, http.StatusOK, false)
}

// verify is call 3: PUT /builds/-1; 404 means alive, 403 removed.
func (r *testCIRunner) verify() int {
	return r.sendJSON("PUT", "/builds/-1", updateBuildRequest{Token: r.token}, http.StatusOK, false).status
}

// requestBuild is call 4: the build payload, or nil with the status.
func (r *testCIRunner) requestBuild() (*buildPayload, response) {
	r.t.Helper()
	resp := r.sendJSON("POST", "/builds/register.json", getBuildRequest{Info: shellRunnerInfo, Token: r.token}, http.StatusCreated, true)
	if resp.status != http.StatusCreated {
		return nil, resp
	}
	var p buildPayload
	if err := json.Unmarshal(resp.body, &p); err != nil {
		r.t.Fatalf("runner: build payload %s: %v", resp.body, err)
	}
	return &p, resp
}

// waitForBuild polls until a build comes (the runner polls every few
// seconds; here a little faster).
func (r *testCIRunner) waitForBuild() *buildPayload {
	r.t.Helper()
	var got *buildPayload
	var last response
	eventually(15e9, func() bool {
		got, last = r.requestBuild()
		return got != nil
	})
	if got == nil {
		r.t.Fatalf("runner: no build within 15s; last answer %s", last)
	}
	return got
}

// updateBuild is call 5: PUT /builds/:id.json with state and the full
// trace (nil: omitted, as 1.3+ does while it patches).
func (r *testCIRunner) updateBuild(id int, state string, trace *string) response {
	return r.sendJSON("PUT", fmt.Sprintf("/builds/%d.json", id),
		updateBuildRequest{Info: shellRunnerInfo, Token: r.token, State: state, Trace: trace}, http.StatusOK, false)
}

// patchTrace is call 6: the bytes from offset on.
func (r *testCIRunner) patchTrace(id int, buildToken string, offset int, chunk string) response {
	h := http.Header{}
	h.Set("BUILD-TOKEN", buildToken)
	h.Set("Content-Range", fmt.Sprintf("%d-%d", offset, offset+len(chunk)-1))
	return r.send("PATCH", fmt.Sprintf("/builds/%d/trace.txt", id), strings.NewReader(chunk), "text/plain", h, http.StatusAccepted, false)
}

// uploadArtifacts is call 7: multipart field "file".
func (r *testCIRunner) uploadArtifacts(id int, buildToken, name string, data []byte) response {
	r.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		r.t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	h := http.Header{}
	h.Set("BUILD-TOKEN", buildToken)
	return r.send("POST", fmt.Sprintf("/builds/%d/artifacts", id), &buf, w.FormDataContentType(), h, http.StatusCreated, false)
}

// downloadArtifacts is call 8.
func (r *testCIRunner) downloadArtifacts(id int, buildToken string) response {
	h := http.Header{}
	h.Set("BUILD-TOKEN", buildToken)
	return r.send("GET", fmt.Sprintf("/builds/%d/artifacts", id), nil, "", h, http.StatusOK, false)
}
