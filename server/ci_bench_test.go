package server_test

// Benchmarks of the runner protocol (make bench): an idle runner's poll,
// the common case (every runner polls every few seconds), and claims with
// work pending, next to a trivial handler's rate in the same run.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

// BenchmarkRunnerPoll: POST /ci/api/v1/builds/register.json at 32
// connections with nothing pending (targets: ≥ 5,000 polls/s on 2 cores
// on SQLite, one indexed statement each — TestIdlePollIsOneIndexedQuery
// counts them) and with 20,000 builds pending (≥ 1,000 claims/s).
func BenchmarkRunnerPoll(b *testing.B) {
	gcLikeTheServer(b)
	f := newCIFixture(b, "sqlite")
	_, plain := benchServers(b, f.store)
	const runners = 32
	tokens := make([]string, runners)
	for i := range tokens {
		tokens[i] = f.register(b)
	}
	var n atomic.Int64
	poll := func(withUA bool) func() *http.Request {
		return func() *http.Request {
			tok := tokens[n.Add(1)%runners]
			r, _ := http.NewRequest("POST", f.url+"/ci/api/v1/builds/register.json",
				strings.NewReader(`{"token":"`+tok+`","info":{"name":"gitlab-ci-multi-runner","version":"1.1.0","revision":"1-1-stable","platform":"linux","architecture":"amd64","executor":"shell","features":{"variables":true,"image":false,"services":false,"features":true,"cache":true}}}`))
			r.Header.Set("Content-Type", "application/json")
			if withUA {
				r.Header.Set("User-Agent", runnerUA)
			}
			return r
		}
	}
	// Every runner records its contact once; the measured polls then write
	// nothing.
	for range runners {
		if status, body := f.do(b, poll(true)()); status != http.StatusNoContent {
			b.Fatalf("warm-up poll: %d %s", status, body)
		}
	}

	trivial := load(b, 32, 20000, func() *http.Request { r, _ := http.NewRequest("GET", plain.URL+"/hello", nil); return r }, 200)
	fmt.Printf("%-48s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms\n", "trivial echo handler", trivial.rate, ms(trivial.p50), ms(trivial.p99))
	// Without a runner's User-Agent "nothing" is a 404 with a JSON body,
	// which the load checker reads; with one it is a 204 (the same work).
	idle := load(b, 32, 20000, poll(false), http.StatusNotFound)
	fmt.Printf("%-48s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   (%.0f%% of trivial; target ≥ 5,000/s)\n",
		"POST /builds/register, nothing pending", idle.rate, ms(idle.p50), ms(idle.p99), 100*idle.rate/trivial.rate)
	b.ReportMetric(idle.rate, "idle_polls/s")

	const pending, claims = 20000, 10000
	f.seed(b, pending)
	claim := load(b, 32, claims, poll(true), http.StatusCreated)
	fmt.Printf("%-48s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   (%.0f%% of trivial; target ≥ 1,000/s)\n",
		"POST /builds/register, 20,000 pending (claims)", claim.rate, ms(claim.p50), ms(claim.p99), 100*claim.rate/trivial.rate)
	b.ReportMetric(claim.rate, "claims/s")
	// Every claim handed out a distinct build.
	list, total, err := f.store.ListBuilds(context.Background(), f.projectID, persistence.BuildFilter{Statuses: []string{persistence.StatusRunning}}, persistence.Page{})
	if err != nil || total != claims || len(list) != claims {
		b.Fatalf("running builds after %d claims: %d (%v)", claims, total, err)
	}
}
