package ecssim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClustersAndServiceListing(t *testing.T) {
	f := newFixture(t)
	f.call(t, "CreateCluster", `{"clusterName":"staging","tags":[{"key":"env","value":"staging"}]}`, nil)
	f.call(t, "CreateCluster", `{"clusterName":"prod"}`, nil) // idempotent
	createWeb(t, f, 2, false, false)
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"api","taskDefinition":"web","desiredCount":0,`+network+`}`, nil)
	f.register(t, "report", reportImage)
	f.run(t, runReport)

	var clusters struct {
		ClusterArns []string `json:"clusterArns"`
	}
	f.call(t, "ListClusters", `{}`, &clusters)
	arn := func(s string) string { return "arn:aws:ecs:us-west-2:123456789012:" + s }
	if diff := cmp.Diff([]string{arn("cluster/prod"), arn("cluster/staging")}, clusters.ClusterArns); diff != "" {
		t.Errorf("ListClusters (-want +got):\n%s", diff)
	}

	type cl struct {
		ClusterName         string `json:"clusterName"`
		Status              string `json:"status"`
		RunningTasksCount   int32  `json:"runningTasksCount"`
		PendingTasksCount   int32  `json:"pendingTasksCount"`
		ActiveServicesCount int32  `json:"activeServicesCount"`
		Tags                []tag  `json:"tags"`
	}
	var desc struct {
		Clusters []cl      `json:"clusters"`
		Failures []failure `json:"failures"`
	}
	f.call(t, "DescribeClusters", `{"clusters":["prod","`+arn("cluster/staging")+`","nope"],"include":["TAGS"]}`, &desc)
	want := []cl{
		{ClusterName: "prod", Status: "ACTIVE", RunningTasksCount: 2, PendingTasksCount: 1, ActiveServicesCount: 2, Tags: nil},
		{ClusterName: "staging", Status: "ACTIVE", Tags: []tag{{"env", "staging"}}},
	}
	if diff := cmp.Diff(want, desc.Clusters); diff != "" {
		t.Errorf("DescribeClusters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]failure{{Arn: arn("cluster/nope"), Reason: "MISSING"}}, desc.Failures); diff != "" {
		t.Errorf("DescribeClusters failures (-want +got):\n%s", diff)
	}

	var services struct {
		ServiceArns []string `json:"serviceArns"`
		NextToken   string   `json:"nextToken"`
	}
	f.call(t, "ListServices", `{"cluster":"prod","maxResults":1}`, &services)
	if diff := cmp.Diff([]string{arn("service/prod/web")}, services.ServiceArns); diff != "" || services.NextToken == "" {
		t.Errorf("ListServices page 1 (-want +got):\n%s", diff)
	}

	if err := f.fail(t, "DeleteService", `{"cluster":"prod","service":"web"}`); err.Code != "InvalidParameterException" {
		t.Errorf("delete a scaled service: %s", err.Code)
	}
	f.call(t, "DeleteService", `{"cluster":"prod","service":"web","force":true}`, nil)
	f.clock.Advance(10 * time.Second)
	f.call(t, "ListServices", `{"cluster":"prod"}`, &services)
	if diff := cmp.Diff([]string{arn("service/prod/api")}, services.ServiceArns); diff != "" {
		t.Errorf("ListServices after delete (-want +got):\n%s", diff)
	}
	if svc, _ := f.ecs.Service("prod", "web"); svc.Status != "INACTIVE" || svc.RunningCount != 0 {
		t.Errorf("deleted service: %s running %d", svc.Status, svc.RunningCount)
	}
	if err := f.fail(t, "UpdateService", `{"cluster":"prod","service":"web","desiredCount":1}`); err.Code != "ServiceNotActiveException" {
		t.Errorf("update a deleted service: %s", err.Code)
	}
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web","desiredCount":1,`+network+`}`, nil)
	if svc, _ := f.ecs.Service("prod", "web"); svc.Status != "ACTIVE" || len(svc.Deployments) != 1 {
		t.Errorf("recreated service: %+v", svc)
	}
}
