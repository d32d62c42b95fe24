package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
)

// The deployment's snapshot is a hint for timing only (family.go,
// store.S3.Snapshot): a snapshot that is wrong must change no decision.

// coldStart replaces the deployer's process: a new source over the same
// bucket and snapshot, and a new engine, both with empty caches.
func (gw *graphWorld) coldStart() {
	src := store.NewS3(gw.bucket, "deckhand", "deckhand.yaml")
	src.Snapshot = gw.src.Snapshot
	gw.src = src
	gw.engine = gw.newEngine()
}

// TestAWrongFamilyGuessHidesNoRollback: the snapshot's template names
// another binding's family, whose latest revision is read beside the
// service; the rolled-back check still reads the serving family's latest,
// so a redelivered push of the digest the service was moved back from is
// SKIPPED (the tracker wrote no mark), not deployed again.
func TestAWrongFamilyGuessHidesNoRollback(t *testing.T) {
	snap := bucketObjects()
	snap["templates/api.json"] = strings.Replace(apiTemplate, `"family":"api"`, `"family":"web"`, 1)
	gw := newBucketWorld(nil, snap)
	gw.deploy(t, push("api", "1", digestA, 0))
	good := aws.ToString(gw.ecs.services["prod/api"].TaskDefinition)
	gw.deploy(t, push("api", "2", digestB, time.Minute))
	gw.rollBack(good, true)
	gw.coldStart()
	redelivered := push("api", "2", digestB, time.Minute)
	redelivered.Receive, redelivered.Redelivered = 2, true
	out := gw.deploy(t, redelivered)
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusSkipped}}, statuses(out)); diff != "" {
		t.Fatalf("the rolled-back push delivered again (-want +got):\n%s\nreason: %s", diff, out[0].Event.Reason)
	}
	if n := gw.ecs.count("UpdateService"); n != 2 {
		t.Errorf("UpdateService calls = %d, want 2 (nothing redeployed)", n)
	}
}

// TestAStaleSnapshotChangesNoDecision deploys under snapshots that no
// longer match the bucket; every deployment registers one revision, in
// the bucket's family, rendered from the bucket's template.
func TestAStaleSnapshotChangesNoDecision(t *testing.T) {
	tests := map[string]func(snap map[string]string){
		"the snapshot's template names a family that does not exist": func(snap map[string]string) {
			snap["templates/web.json"] = strings.Replace(webTemplate, `"family":"web"`, `"family":"web-old"`, 1)
		},
		"the snapshot's template names another binding's family": func(snap map[string]string) {
			snap["templates/web.json"] = strings.Replace(webTemplate, `"family":"web"`, `"family":"api"`, 1)
		},
		"the snapshot's template does not render": func(snap map[string]string) {
			snap["templates/web.json"] = `{"family": "{{ .Vars.GONE }}"}`
		},
		"the snapshot's manifest binds the repository to another template": func(snap map[string]string) {
			snap["deckhand.yaml"] = strings.Replace(testManifest, "template: templates/web.json", "template: templates/api.json", 1)
		},
		"the snapshot's manifest binds the repository to no service": func(snap map[string]string) {
			snap["deckhand.yaml"] = strings.Replace(testManifest, "repository: web,", "repository: web-old,", 1)
		},
		"the snapshot has no manifest": func(snap map[string]string) { delete(snap, "deckhand.yaml") },
	}
	for name, stale := range tests {
		t.Run(name, func(t *testing.T) {
			snap := bucketObjects()
			stale(snap)
			gw := newBucketWorld(nil, snap)
			for i, p := range []Push{push("web", "1.4.0", digestA, 0), push("web", "1.5.0", digestB, time.Minute)} {
				gw.coldStart()
				out := gw.deploy(t, p)
				if diff := cmp.Diff(map[string][]events.DeploymentStatus{"web": {events.StatusStarted}}, statuses(out)); diff != "" {
					t.Fatalf("push %d (-want +got):\n%s\nreason: %s", i, diff, out[0].Event.Reason)
				}
			}
			if n := len(gw.ecs.defs["web"]); n != 3 {
				t.Errorf("revisions of web = %d, want 3 (the seed's and one per push)", n)
			}
			gw.uniqueHashes(t, "web")
			if got := gw.runningImage(t, "web", "web"); got != registry+"/web@"+digestB {
				t.Errorf("web runs %s, want the second push", got)
			}
			if n := len(gw.ecs.defs["api"]) + len(gw.ecs.defs["web-old"]); n != 1 {
				t.Errorf("revisions of other families = %d, want api's seed only", n)
			}
		})
	}
}
