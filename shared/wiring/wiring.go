// Package wiring builds every adapter of the stack from one configuration,
// for the processes that run all of it: `kakaoauth local` and `kakaoauth
// admin`. A Lambda wires only its own adapters in its main.go, so that its
// binary links only the AWS clients it uses; this package links them all.
package wiring

import (
	"io"
	"os"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cloudwatch"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/eventbridge"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/shared/sqs"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// Stack is the configuration with every adapter it configures.
type Stack struct {
	*bootstrap.Deps
	// MetricsOut receives the metrics' EMF lines (nil: standard output).
	MetricsOut io.Writer
}

// New wires d.
func New(d *bootstrap.Deps) *Stack { return &Stack{Deps: d} }

// Kakao is the token verifier. One per process: it holds the JWKS cache.
func (s *Stack) Kakao() *kakao.Verifier {
	c := s.Config
	return kakao.ForApp(s.HTTP, c.KakaoAPIBaseURL, c.KakaoAuthBaseURL, c.KakaoAppID, c.KakaoAppKeys,
		kakao.WithNonceRequired(!c.AllowIDTokenWithoutNonce), kakao.WithPlainNonce(c.AllowPlainIDTokenNonce))
}

// Users is the Cognito user pool.
func (s *Stack) Users() *cognito.Directory {
	return cognito.New(cip.NewFromConfig(s.AWS), s.Config.UserPoolID, s.Config.UserPoolClientID)
}

// Mappings is the mapping table.
func (s *Stack) Mappings() *store.Mappings {
	opts := []store.MappingsOption{store.WithRetention(s.Config.Retention)}
	if s.Config.OutboxGrace > 0 {
		opts = append(opts, store.WithOutboxGrace(s.Config.OutboxGrace))
	}
	return store.NewMappings(dynamodb.NewFromConfig(s.AWS), s.Config.MappingTable, opts...)
}

// Operations is the operations table (the unlink inbox, the reconciler's
// cursor).
func (s *Stack) Operations() *store.Operations {
	return store.NewOperations(dynamodb.NewFromConfig(s.AWS), s.Config.OperationsTable)
}

// KakaoLinks asks Kakao which accounts are linked, with the admin key.
func (s *Stack) KakaoLinks() *kakao.Accounts {
	c := s.Config
	return kakao.NewAccounts(kakao.NewClient(s.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL)), c.KakaoAdminKey)
}

// Metrics writes CloudWatch's embedded metric format to MetricsOut
// (standard output unless set), under the stack's name.
func (s *Stack) Metrics() *cloudwatch.Metrics {
	out := s.MetricsOut
	if out == nil {
		out = os.Stdout
	}
	return cloudwatch.New(out, s.Config.StackName)
}

// Audit is the audit table.
func (s *Stack) Audit() *store.Audit {
	return store.AuditOf(dynamodb.NewFromConfig(s.AWS), s.Config)
}

// Events is the lifecycle event bus.
func (s *Stack) Events() *eventbridge.Bus {
	return eventbridge.New(awseb.NewFromConfig(s.AWS), s.Config.EventBusName)
}

// UnlinkQueue is the queue between the unlink webhook and its worker.
func (s *Stack) UnlinkQueue() *sqs.Queue {
	return sqs.New(awssqs.NewFromConfig(s.AWS), s.Config.UnlinkQueueURL)
}

// HostedUI is the hosted-UI flow's parts (HOSTED_UI=enabled): the pool's
// links, which unlinks and deletions remove, its app clients, and Kakao's
// account lookups (the PreSignUp trigger's, as lambdas/presignup wires
// them: 1 s per attempt inside Cognito's 5 s).
func (s *Stack) HostedUI() workflow.HostedUI {
	idp := cip.NewFromConfig(s.AWS)
	c := s.Config
	lookups := kakao.NewClient(s.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL), kakao.WithTimeout(time.Second))
	return workflow.HostedUI{UserPoolID: c.UserPoolID, Links: cognito.NewFederation(idp, c.UserPoolID), Clients: cognito.NewAppClients(idp, 0, nil),
		Accounts: kakao.NewAccounts(lookups, c.KakaoAdminKey)}
}

// Steps wires the workflow with every adapter the configuration names.
func (s *Stack) Steps() *workflow.Steps {
	c := s.Config
	var opts []workflow.Option
	if c.KakaoAppID != 0 {
		opts = append(opts, workflow.WithKakao(s.Kakao()))
	}
	if c.UserPoolID != "" {
		opts = append(opts, workflow.WithUsers(s.Users()))
	}
	if c.MappingTable != "" {
		mappings := s.Mappings()
		opts = append(opts, workflow.WithMappings(mappings))
		if c.AuditTable != "" {
			opts = append(opts, workflow.WithSweeper(mappings, s.Audit()))
		}
		if c.OperationsTable != "" && c.KakaoAdminKey != "" {
			opts = append(opts, workflow.WithReconciler(s.KakaoLinks(), store.NewActiveAccounts(dynamodb.NewFromConfig(s.AWS), c.MappingTable),
				s.Operations(), s.Metrics(), workflow.ReconcilerSettings{RequestsPerSecond: c.ReconcileRate, MaxUnlinksPerRun: c.ReconcileMaxUnlinks}))
		}
	}
	if c.OperationsTable != "" {
		opts = append(opts, workflow.WithInbox(s.Operations()))
	}
	if c.AuditTable != "" {
		opts = append(opts, workflow.WithAudit(s.Audit()))
	}
	if c.EventBusName != "" {
		opts = append(opts, workflow.WithEvents(s.Events()))
	}
	if c.UnlinkQueueURL != "" {
		opts = append(opts, workflow.WithUnlinkQueue(s.UnlinkQueue()))
	}
	if c.HostedUI && c.UserPoolID != "" {
		opts = append(opts, workflow.WithHostedUI(s.HostedUI()))
	}
	if c.UserPoolID != "" && c.UserPoolClientID != "" {
		// The linking endpoints' access tokens: the stack's client's and
		// the ones LinkClientIds names.
		opts = append(opts, workflow.WithAccessTokens(cognito.NewAccessTokens(cip.NewFromConfig(s.AWS), c.UserPoolID,
			append([]string{c.UserPoolClientID}, c.LinkClientIDs...), nil)))
	}
	if c.KakaoAdminKey != "" {
		opts = append(opts, workflow.WithKakaoAccounts(s.KakaoAccounts()))
	}
	if c.BrokerClientName != "" {
		opts = append(opts, workflow.WithBrokerClient(c.BrokerClientName, cognito.NewAppClients(cip.NewFromConfig(s.AWS), 0, nil)))
	}
	return s.Deps.Steps(opts...)
}

// KakaoAccounts is Kakao's admin API (the admin key): account lookups,
// and the unlink a user's own DELETE /auth/kakao/link asks of Kakao.
func (s *Stack) KakaoAccounts() *kakao.Accounts {
	c := s.Config
	return kakao.NewAccounts(kakao.NewClient(s.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL)), c.KakaoAdminKey)
}
