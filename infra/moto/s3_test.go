package moto

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The layer's S3 (ext/s3_ext.py): a browser's preflight of an object is
// answered from the bucket's CORS rules, whether the object exists or not
// (moto alone refuses it with 403 once the object exists).
func TestS3PreflightOfAnObjectFollowsBucketCORS(t *testing.T) {
	ctx := context.Background()
	srv := ForTest(t)
	api := s3.NewFromConfig(AWSConfig(ctx, srv.URL()), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "cors-" + randomHex(4)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	// Pages of this machine: the layer refuses any other Origin first.
	const origin = "http://127.0.0.1:8090"
	if _, err := api.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &bucket, CORSConfiguration: &s3types.CORSConfiguration{
		CORSRules: []s3types.CORSRule{{AllowedOrigins: []string{origin}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"*"}}},
	}}); err != nil {
		t.Fatal(err)
	}
	preflight := func(key, from string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, srv.URL()+"/"+bucket+"/"+key, nil)
		req.Header.Set("Origin", from)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization,x-amz-date")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("private/a/hello.txt"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"private/a/hello.txt", "private/a/not-yet.txt"} {
		if r := preflight(key, origin); r.StatusCode != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight of %s from %s: %d, Access-Control-Allow-Origin %q", key, origin, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
		if r := preflight(key, "http://localhost:8091"); r.StatusCode != http.StatusForbidden {
			t.Errorf("preflight of %s from another origin: %d, want 403", key, r.StatusCode)
		}
	}
}
