package preflight

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Regions are the AWS (commercial partition) regions that offer both
// Amazon Cognito user pools and Step Functions: the regions named by the
// endpoint tables of aws-sdk-go-v2's cognitoidentityprovider and sfn
// clients in go.mod (TestRegionsMatchTheSDK keeps the two in step). API
// Gateway, Lambda (arm64), DynamoDB, SQS, EventBridge and Secrets Manager
// are in every one of them.
var Regions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
	"eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

var regionShape = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// CheckRegion says what is wrong with deploying to region, or "".
func CheckRegion(region string) string {
	switch {
	case region == "":
		return "no region: name one with -region (e.g. ap-northeast-2, Seoul, next to Kakao's API)"
	case slices.Contains(Regions, region):
		return ""
	case !regionShape.MatchString(region):
		return fmt.Sprintf("%q is not an AWS region code: codes look like ap-northeast-2 (Seoul)", region)
	case strings.HasPrefix(region, "cn-") || strings.HasPrefix(region, "us-gov-") || strings.Contains(region, "-iso"):
		return fmt.Sprintf("%s is outside AWS's commercial partition, which this template and its checks are written for", region)
	}
	return fmt.Sprintf("%s is not a region where this stack can run: it needs Amazon Cognito user pools and Step Functions, offered in %s",
		region, strings.Join(Regions, ", "))
}
