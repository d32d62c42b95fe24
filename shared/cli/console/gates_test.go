package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// pending brings a shop image to shop-prod's approval (examples/gates.yaml:
// staging deploys it, soaks 10m, the reconciler promotes it) and returns
// the pending revision.
func (r *rig) pending(t testing.TB, tag string) string {
	t.Helper()
	ctx := context.Background()
	r.st.SB.PushImage("shop", tag)
	r.settle(t, 12*time.Minute)
	if _, err := r.st.Reconciler.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.Pump(ctx); err != nil {
		t.Fatal(err)
	}
	ps, err := r.env.Pending(ctx, []string{"shop-prod"})
	if err != nil || len(ps) != 1 {
		t.Fatalf("pending = %+v, %v; want one", ps, err)
	}
	return ps[0].Revision
}

// approval is a revision's approval tags.
func (r *rig) approval(t testing.TB, arn string) revision.Tags {
	t.Helper()
	out, err := r.st.ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	tags := revision.TagsOf(out.Tags)
	return revision.Tags{revision.TagApproval: tags[revision.TagApproval], revision.TagDecidedBy: tags[revision.TagDecidedBy],
		revision.TagDecisionReason: tags[revision.TagDecisionReason]}
}

// TestApproveWithoutTheTokenIsRefused: approve is a write like hold: a
// POST without the console's CSRF token is refused and approves nothing.
func TestApproveWithoutTheTokenIsRefused(t *testing.T) {
	r := newRig(t, rigOptions{gates: true})
	arn := r.pending(t, "1.1.0")
	for name, form := range map[string]url.Values{"no token": {}, "a wrong token": {"csrf": {strings.Repeat("0", 64)}}} {
		req, _ := http.NewRequest(http.MethodPost, r.url+"/b/shop-prod/approve", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, resp.StatusCode)
		}
	}
	if got := r.approval(t, arn)[revision.TagApproval]; got != revision.ApprovalPending {
		t.Errorf("after refused POSTs the revision is %q, want still pending", got)
	}
}

// TestBrowserApproveAndRejectFromThePage: the fleet lists the binding as
// pending approval; its page approves after the confirmation step (the
// revision is approved only then, by the caller STS names), and a second
// promotion is rejected with a reason.
func TestBrowserApproveAndRejectFromThePage(t *testing.T) {
	ctx := browser(t, 1280, 900, false)
	r := newRig(t, rigOptions{gates: true})
	root := "arn:aws:iam::" + r.st.SB.Account() + ":root"
	arn := r.pending(t, "1.1.0")
	run(t, ctx, chromedp.Navigate(r.url+"/?state="+StatePendingApproval), chromedp.WaitVisible(chromedp.CSS("#fleet")))
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll("#fleet tbody tr")].map(tr => tr.dataset.binding)`); !cmp.Equal(got, []string{"shop-prod"}) {
		t.Errorf("fleet filtered by %s shows %v, want [shop-prod]", StatePendingApproval, got)
	}
	run(t, ctx, chromedp.Navigate(r.url+"/b/shop-prod"), chromedp.WaitVisible(chromedp.CSS("#pending")),
		chromedp.Click(chromedp.CSS(`a[href="/b/shop-prod/approve"]`)), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	if got := r.approval(t, arn)[revision.TagApproval]; got != revision.ApprovalPending {
		t.Fatalf("the confirmation page decided already: %q", got)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#confirm")), until(`location.search.includes("done=approve")`))
	want := revision.Tags{revision.TagApproval: revision.ApprovalApproved, revision.TagDecidedBy: root, revision.TagDecisionReason: ""}
	if diff := cmp.Diff(want, r.approval(t, arn)); diff != "" {
		t.Errorf("after approve from the page (-want +got):\n%s", diff)
	}
	r.settle(t, time.Minute)
	arn = r.pending(t, "1.2.0")
	run(t, ctx, chromedp.Navigate(r.url+"/b/shop-prod/reject"), chromedp.WaitVisible(chromedp.CSS("#reason")),
		chromedp.SendKeys(chromedp.CSS("#reason"), "fails the load test"), chromedp.Click(chromedp.CSS("#confirm")),
		until(`location.search.includes("done=reject")`))
	want = revision.Tags{revision.TagApproval: revision.ApprovalRejected, revision.TagDecidedBy: root, revision.TagDecisionReason: "fails the load test"}
	if diff := cmp.Diff(want, r.approval(t, arn)); diff != "" {
		t.Errorf("after reject from the page (-want +got):\n%s", diff)
	}
	if got := eval[string](t, ctx, `document.querySelector(".timeline").textContent`); !strings.Contains(got, "REJECTED") {
		t.Error("the timeline does not show the rejected revision")
	}
}
