// Package provision creates the stack's stateful resources (the Cognito
// user pool with its Lambda triggers and app client, the mapping and audit
// tables, the unlink queue and its dead-letter queue, the lifecycle event
// bus, the generated pepper secret; with HostedUi=enabled the pool's
// domain, Kakao identity provider and hosted-UI client too) in moto from
// template.yaml itself, so the local shapes are the deployed shapes.
//
// goformation parses the SAM template and resolves parameters (to their
// defaults), conditions and !Sub; !Ref and !GetAtt of resources resolve to
// nothing, which is fine: only the resources' shapes are read here, and
// names come from Names.
package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfncognito "github.com/awslabs/goformation/v7/cloudformation/cognito"
	cfnddb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	cfns3 "github.com/awslabs/goformation/v7/cloudformation/s3"
	cfnsm "github.com/awslabs/goformation/v7/cloudformation/secretsmanager"
	cfnsqs "github.com/awslabs/goformation/v7/cloudformation/sqs"
	"github.com/awslabs/goformation/v7/intrinsics"
	"gopkg.in/yaml.v3"
)

// Logical IDs in template.yaml that Provision creates.
const (
	LogicalUserPool       = "UserPool"
	LogicalUserPoolClient = "UserPoolClient"
	LogicalMappingTable   = "MappingTable"
	LogicalAuditTable     = "AuditTable"
	LogicalUnlinkQueue    = "UnlinkQueue"
	LogicalUnlinkDLQ      = "UnlinkDeadLetterQueue"
	LogicalEventBus       = "EventBus"
	LogicalPepperSecret   = "PepperSecret"
	LogicalProofKeySecret = "ProofKeySecret"
	// With HostedUi=enabled.
	LogicalUserPoolDomain = "UserPoolDomain"
	LogicalKakaoIdP       = "KakaoIdentityProvider"
	LogicalHostedUIClient = "HostedUiClient"
	hostedUICondition     = "HostedUiEnabled"
	// paramUserPoolID is the template's existing pool (empty: its own).
	paramUserPoolID         = "UserPoolId"
	lambdaAccountID         = "123456789012" // moto's default account
	functionARNPrefixFormat = "arn:aws:lambda:%s:%s:function:"
	// Issue 19: the unlink inbox and reconciler cursor; the unlink MAC key.
	LogicalOperationsTable = "OperationsTable"
	LogicalUnlinkMACKey    = "UnlinkMacKeySecret"
)

// Names are the physical names to give the resources. In the cloud
// CloudFormation names them; locally the caller does.
type Names struct {
	UserPool       string
	UserPoolClient string
	MappingTable   string
	AuditTable     string
	UnlinkQueue    string
	UnlinkDLQ      string
	EventBus       string
	PepperSecret   string
	ProofKeySecret string
	// FunctionPrefix names the functions: <FunctionPrefix><logical id>.
	// The pool's triggers are their ARNs.
	FunctionPrefix string
	// HostedUIClient names the hosted UI's app client (HostedUi=enabled).
	HostedUIClient string
	// The identity pool's (identity.go).
	IdentityPool    string
	IdentityRole    string
	UserFilesBucket string
	// Issue 19.
	OperationsTable string
	UnlinkMACKey    string
}

// NamesFor derives every name from one prefix, e.g. "kakaoauth-local".
func NamesFor(prefix string) Names {
	return Names{
		UserPool:       prefix + "-users",
		UserPoolClient: prefix + "-app",
		MappingTable:   prefix + "-mappings",
		AuditTable:     prefix + "-audit",
		UnlinkQueue:    prefix + "-unlink",
		UnlinkDLQ:      prefix + "-unlink-dlq",
		EventBus:       prefix + "-events",
		PepperSecret:   prefix + "/pepper",
		ProofKeySecret: prefix + "/proof-key",
		FunctionPrefix: prefix + "-",
		HostedUIClient: prefix + "-hosted-ui",
		IdentityPool:   prefix + "-identities",
		IdentityRole:   prefix + "-identity-authenticated",
		// Bucket names are lower case.
		UserFilesBucket: strings.ToLower(prefix) + "-user-files",
		// Issue 19.
		OperationsTable: prefix + "-operations",
		UnlinkMACKey:    prefix + "/unlink-mac-key",
	}
}

// Stack is what the Lambdas need to know about the provisioned resources:
// the same values as the template's Outputs.
type Stack struct {
	UserPoolID       string
	UserPoolClientID string
	MappingTable     string
	AuditTable       string
	UnlinkQueueURL   string
	// UnlinkQueueARN is what the worker's event source names the queue by.
	UnlinkQueueARN string
	UnlinkDLQURL   string
	EventBusName   string
	// PepperSecretARN is the generated pepper (Secrets Manager).
	PepperSecretARN string
	// ProofKeySecretARN is the generated key of the sign-in proofs.
	ProofKeySecretARN string
	// OperationsTable keeps the unlink inbox and the reconciler's cursor;
	// UnlinkMACKeySecretARN is the generated key of the unlink MAC.
	OperationsTable       string
	UnlinkMACKeySecretARN string
	// Triggers are the pool's Lambda triggers as template.yaml sets them:
	// template logical id of each function -> its ARN. Whoever runs the
	// stack serves each of them (infra/lambdaapi) and registers it with
	// moto's layer, which invokes them where Cognito would. In an existing
	// pool (WithUserPool) the pool does not name them until they are
	// attached to it, as `kakaoauth pool attach` does.
	Triggers map[string]string
	// HostedUI is set when the stack has the hosted UI (HostedUi=enabled).
	HostedUI *HostedUI
	// IdentityPoolID, IdentityRoleARN and UserFilesBucket are the
	// identity pool's (EnableIdentityPool in the template).
	IdentityPoolID  string
	IdentityRoleARN string
	UserFilesBucket string
}

// HostedUI is the hosted UI provisioned with the pool.
type HostedUI struct {
	// Domain is the pool's domain prefix; moto's layer serves its
	// endpoints at <moto URL>/<Domain> (/oauth2/authorize, ...).
	Domain string
	// ClientID is the hosted UI's app client.
	ClientID string
	// Provider is the pool's Kakao identity provider (kakaoauth.HostedUIProvider).
	Provider string
}

// Option adjusts what Provision creates.
type Option func(*options)

type options struct {
	queueVisibility time.Duration
	parameters      map[string]string
	noTriggers      bool
}

// WithoutTriggers creates the pool without its Lambda triggers, for tests
// of the Cognito adapters alone that serve no functions: with triggers,
// moto's layer (as Cognito) fails every operation that runs one.
func WithoutTriggers() Option { return func(o *options) { o.noTriggers = true } }

// WithParameters sets template parameters (by name) instead of their
// defaults, as a deploy's parameter overrides do: e.g. HostedUi=enabled
// and what it needs. Conditions and !Sub follow them.
func WithParameters(params map[string]string) Option {
	return func(o *options) {
		if o.parameters == nil {
			o.parameters = map[string]string{}
		}
		maps.Copy(o.parameters, params)
	}
}

// WithUserPool provisions into an existing pool, as the template's
// UserPoolId does: no pool is created, the app clients are created in
// that pool, and the template is read in pool mode. Stack.Triggers are
// then the functions to attach to it (what `kakaoauth pool attach` puts
// in): the ones the template wires into a pool of its own.
func WithUserPool(id string) Option {
	if id == "" {
		return func(*options) {}
	}
	return WithParameters(map[string]string{paramUserPoolID: id})
}

// WithQueueVisibility overrides the unlink queue's visibility timeout
// (template: 360 s, 6x the worker's timeout), so that a local retry comes
// round in seconds. The dead-letter wiring and everything else stay as
// the template says.
func WithQueueVisibility(d time.Duration) Option {
	return func(o *options) { o.queueVisibility = d }
}

// Provision creates the user pool, its app client and both tables as
// template.yaml declares them. It is idempotent: resources that already
// exist by name are reused, and a table whose keys or indexes differ from
// the template is an error (reset moto after changing the template).
func Provision(ctx context.Context, cfg aws.Config, templatePath string, names Names, opts ...Option) (Stack, error) {
	if names.UserPool == "" || names.UserPoolClient == "" || names.MappingTable == "" || names.AuditTable == "" ||
		names.UnlinkQueue == "" || names.UnlinkDLQ == "" || names.EventBus == "" || names.PepperSecret == "" || names.ProofKeySecret == "" ||
		names.OperationsTable == "" || names.UnlinkMACKey == "" ||
		names.FunctionPrefix == "" || names.HostedUIClient == "" ||
		names.IdentityPool == "" || names.IdentityRole == "" || names.UserFilesBucket == "" {
		return Stack{}, errors.New("provision: every name must be set (see NamesFor)")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	functionARNPrefix := fmt.Sprintf(functionARNPrefixFormat, cfg.Region, lambdaAccountID) + names.FunctionPrefix
	res, err := load(templatePath, o.parameters, functionARNPrefix)
	if err != nil {
		return Stack{}, err
	}
	poolID := o.parameters[paramUserPoolID]
	if poolID != "" {
		// The functions an attach puts into the pool: those the template
		// wires into a pool of its own with the same parameters.
		own := maps.Clone(o.parameters)
		delete(own, paramUserPoolID)
		ownRes, err := load(templatePath, own, functionARNPrefix)
		if err != nil {
			return Stack{}, err
		}
		res.triggers = ownRes.triggers
	}
	if o.noTriggers {
		if res.pool != nil {
			res.pool.LambdaConfig = nil
		}
		res.triggers = map[string]string{}
	}
	idp := cip.NewFromConfig(cfg)
	ddb := dynamodb.NewFromConfig(cfg)

	if poolID == "" {
		if poolID, err = ensureUserPool(ctx, idp, names.UserPool, res.pool); err != nil {
			return Stack{}, err
		}
	} else if _, err := idp.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &poolID}); err != nil {
		return Stack{}, fmt.Errorf("provision: user pool %s: %w", poolID, err)
	}
	clientID, err := ensureClient(ctx, idp, poolID, names.UserPoolClient, res.client)
	if err != nil {
		return Stack{}, err
	}
	var hosted *HostedUI
	if res.hostedClient != nil {
		if hosted, err = ensureHostedUI(ctx, idp, sm.NewFromConfig(cfg), poolID, names.HostedUIClient, res); err != nil {
			return Stack{}, err
		}
	}
	if err := ensureTable(ctx, ddb, names.MappingTable, res.mapping); err != nil {
		return Stack{}, err
	}
	if err := ensureTable(ctx, ddb, names.AuditTable, res.audit); err != nil {
		return Stack{}, err
	}
	if err := ensureTable(ctx, ddb, names.OperationsTable, res.operations); err != nil {
		return Stack{}, err
	}
	q := sqs.NewFromConfig(cfg)
	dlqURL, dlqARN, err := ensureQueue(ctx, q, names.UnlinkDLQ, res.dlq, "", 0)
	if err != nil {
		return Stack{}, err
	}
	queueURL, queueARN, err := ensureQueue(ctx, q, names.UnlinkQueue, res.queue, dlqARN, o.queueVisibility)
	if err != nil {
		return Stack{}, err
	}
	if err := ensureBus(ctx, eventbridge.NewFromConfig(cfg), names.EventBus); err != nil {
		return Stack{}, err
	}
	pepperARN, err := ensureGeneratedSecret(ctx, sm.NewFromConfig(cfg), names.PepperSecret, res.pepper.GenerateSecretString)
	if err != nil {
		return Stack{}, err
	}
	proofKeyARN, err := ensureGeneratedSecret(ctx, sm.NewFromConfig(cfg), names.ProofKeySecret, res.proofKey.GenerateSecretString)
	if err != nil {
		return Stack{}, err
	}
	macKeyARN, err := ensureGeneratedSecret(ctx, sm.NewFromConfig(cfg), names.UnlinkMACKey, res.macKey.GenerateSecretString)
	if err != nil {
		return Stack{}, err
	}
	var identityPoolID, identityRoleARN, userFiles string
	if res.identityPool != nil {
		if identityPoolID, identityRoleARN, err = ensureIdentity(ctx, cfg, names, poolID, clientID, res.identityPool, res.userFiles); err != nil {
			return Stack{}, err
		}
		userFiles = names.UserFilesBucket
	}
	return Stack{
		OperationsTable:       names.OperationsTable,
		UnlinkMACKeySecretARN: macKeyARN,
		Triggers:              res.triggers,
		HostedUI:              hosted,
		IdentityPoolID:        identityPoolID,
		IdentityRoleARN:       identityRoleARN,
		UserFilesBucket:       userFiles,
		PepperSecretARN:       pepperARN,
		ProofKeySecretARN:     proofKeyARN,
		UserPoolID:            poolID,
		UserPoolClientID:      clientID,
		MappingTable:          names.MappingTable,
		AuditTable:            names.AuditTable,
		UnlinkQueueURL:        queueURL,
		UnlinkQueueARN:        queueARN,
		UnlinkDLQURL:          dlqURL,
		EventBusName:          names.EventBus,
	}, nil
}

type resources struct {
	pool   *cfncognito.UserPool
	client *cfncognito.UserPoolClient
	// triggers: logical id of each trigger function -> ARN.
	triggers map[string]string
	// With HostedUi=enabled, else nil.
	domain         *cfncognito.UserPoolDomain
	kakaoIdP       *cfncognito.UserPoolIdentityProvider
	hostedClient   *cfncognito.UserPoolClient
	mapping, audit *cfnddb.Table
	queue, dlq     *cfnsqs.Queue
	pepper         *cfnsm.Secret
	proofKey       *cfnsm.Secret
	operations     *cfnddb.Table
	macKey         *cfnsm.Secret
	identityPool   *cfncognito.IdentityPool
	userFiles      *cfns3.Bucket
}

func load(path string, params map[string]string, functionARNPrefix string) (resources, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return resources{}, fmt.Errorf("provision: %w", err)
	}
	triggers := map[string]string{}
	if data, err = shapesOnly(data, params, functionARNPrefix, triggers); err != nil {
		return resources{}, fmt.Errorf("provision: parse %s: %w", path, err)
	}
	overrides := map[string]any{}
	for k, v := range params {
		overrides[k] = v
	}
	tpl, err := goformation.ParseYAMLWithOptions(data, &intrinsics.ProcessorOptions{EvaluateConditions: true, ParameterOverrides: overrides})
	if err != nil {
		return resources{}, fmt.Errorf("provision: parse %s: %w", path, err)
	}
	r, err := pick(tpl, params[paramUserPoolID] != "")
	if err != nil {
		return r, err
	}
	// Only the triggers the pool names once conditions are applied.
	r.triggers = map[string]string{}
	if lc := r.pool; lc != nil && lc.LambdaConfig != nil {
		lc := lc.LambdaConfig
		for _, arn := range []*string{lc.PreSignUp, lc.PreAuthentication, lc.PostAuthentication, lc.PostConfirmation,
			lc.DefineAuthChallenge, lc.CreateAuthChallenge, lc.VerifyAuthChallengeResponse, lc.PreTokenGeneration,
			lc.CustomMessage, lc.UserMigration} {
			for logical, want := range triggers {
				if aws.ToString(arn) == want {
					r.triggers[logical] = want
				}
			}
		}
	}
	return r, nil
}

// shapesOnly cuts the template down to its parameters, conditions and the
// resources Provision reads, before goformation sees it. goformation's SAM
// schema is older than the template (it refuses LoggingConfig and the Api's
// GatewayResponses as unknown or mistyped) and it replaces any map with a
// Condition key, resource-level ones included, by the condition's value:
// a conditional resource is kept (without the key) when its condition
// holds for params, dropped otherwise. The pool's triggers, !GetAtt
// <function>.Arn in its LambdaConfig, become the ARNs the functions have
// here (functionARNPrefix + logical id), recorded in triggers. YAML tags
// (!Ref, !Sub, ...) survive the round trip.
func shapesOnly(data []byte, params map[string]string, functionARNPrefix string, triggers map[string]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a YAML mapping")
	}
	keepResources := map[string]bool{LogicalUserPool: true, LogicalUserPoolClient: true, LogicalMappingTable: true, LogicalAuditTable: true,
		LogicalUnlinkQueue: true, LogicalUnlinkDLQ: true, LogicalPepperSecret: true, LogicalProofKeySecret: true,
		LogicalUserPoolDomain: true, LogicalKakaoIdP: true, LogicalHostedUIClient: true,
		LogicalIdentityPool: true, LogicalUserFilesBucket: true, LogicalOperationsTable: true, LogicalUnlinkMACKey: true}
	top := doc.Content[0]
	conds, err := newConditions(top, params)
	if err != nil {
		return nil, err
	}
	// The event bus is conditional (an operator may name their own), which
	// goformation cannot read; only its presence is checked, by name.
	busFound := false
	out := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		switch key.Value {
		case "AWSTemplateFormatVersion", "Parameters", "Conditions", "Mappings":
			out.Content = append(out.Content, key, val)
		case "Resources":
			if val.Kind != yaml.MappingNode {
				return nil, errors.New("Resources is not a mapping")
			}
			kept := &yaml.Node{Kind: yaml.MappingNode}
			for j := 0; j+1 < len(val.Content); j += 2 {
				name, res := val.Content[j], val.Content[j+1]
				busFound = busFound || name.Value == LogicalEventBus
				if !keepResources[name.Value] {
					continue
				}
				res, ok, err := withoutCondition(res, conds)
				if err != nil {
					return nil, fmt.Errorf("resource %s: %w", name.Value, err)
				}
				if !ok {
					continue
				}
				if name.Value == LogicalUserPool {
					bindTriggers(res, functionARNPrefix, triggers)
				}
				kept.Content = append(kept.Content, name, res)
			}
			out.Content = append(out.Content, key, kept)
		}
	}
	if !busFound {
		return nil, errors.New("no " + LogicalEventBus + " resource")
	}
	return yaml.Marshal(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{out}})
}

// bindTriggers replaces each !GetAtt <function>.Arn under the pool's
// LambdaConfig by the function's local ARN, recording it in triggers.
func bindTriggers(pool *yaml.Node, functionARNPrefix string, triggers map[string]string) {
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Tag == "!GetAtt" && n.Kind == yaml.ScalarNode && strings.HasSuffix(n.Value, ".Arn") {
			logical := strings.TrimSuffix(n.Value, ".Arn")
			arn := functionARNPrefix + logical
			triggers[logical] = arn
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: arn}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	props := mapValue(pool, "Properties")
	if lc := mapValue(props, "LambdaConfig"); lc != nil {
		walk(lc)
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// withoutCondition returns a resource without its Condition key, and
// whether the condition holds (true when it has none).
func withoutCondition(res *yaml.Node, conds *conditions) (*yaml.Node, bool, error) {
	if res.Kind != yaml.MappingNode {
		return res, true, nil
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: res.Tag}
	holds := true
	for i := 0; i+1 < len(res.Content); i += 2 {
		if res.Content[i].Value == "Condition" {
			ok, err := conds.eval(res.Content[i+1].Value)
			if err != nil {
				return nil, false, err
			}
			holds = ok
			continue
		}
		out.Content = append(out.Content, res.Content[i], res.Content[i+1])
	}
	return out, holds, nil
}

// conditions evaluates the template's Conditions as far as resource-level
// conditions need: !Equals of !Ref parameters and literals, !Not, !And,
// !Or, !Condition.
type conditions struct {
	defs   map[string]*yaml.Node
	params map[string]string
}

func newConditions(top *yaml.Node, overrides map[string]string) (*conditions, error) {
	c := &conditions{defs: map[string]*yaml.Node{}, params: map[string]string{}}
	if params := mapValue(top, "Parameters"); params != nil {
		for i := 0; i+1 < len(params.Content); i += 2 {
			if d := mapValue(params.Content[i+1], "Default"); d != nil {
				c.params[params.Content[i].Value] = d.Value
			}
		}
	}
	for k, v := range overrides {
		if _, ok := c.params[k]; !ok && mapValue(mapValue(top, "Parameters"), k) == nil {
			return nil, fmt.Errorf("parameter %s: the template has no such parameter", k)
		}
		c.params[k] = v
	}
	if defs := mapValue(top, "Conditions"); defs != nil {
		for i := 0; i+1 < len(defs.Content); i += 2 {
			c.defs[defs.Content[i].Value] = defs.Content[i+1]
		}
	}
	return c, nil
}

func (c *conditions) eval(name string) (bool, error) {
	def, ok := c.defs[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	return c.evalNode(def)
}

func (c *conditions) evalNode(n *yaml.Node) (bool, error) {
	switch n.Tag {
	case "!Condition":
		return c.eval(n.Value)
	case "!Not":
		if len(n.Content) != 1 {
			return false, errors.New("!Not takes one condition")
		}
		v, err := c.evalNode(n.Content[0])
		return !v, err
	case "!And", "!Or":
		and := n.Tag == "!And"
		for _, sub := range n.Content {
			v, err := c.evalNode(sub)
			if err != nil {
				return false, err
			}
			if v != and {
				return v, nil
			}
		}
		return and, nil
	case "!Equals":
		if len(n.Content) != 2 {
			return false, errors.New("!Equals takes two values")
		}
		a, err := c.value(n.Content[0])
		if err != nil {
			return false, err
		}
		b, err := c.value(n.Content[1])
		return a == b, err
	}
	return false, fmt.Errorf("condition function %s is not evaluated locally", n.Tag)
}

func (c *conditions) value(n *yaml.Node) (string, error) {
	switch {
	case n.Tag == "!Ref":
		v, ok := c.params[n.Value]
		if !ok {
			return "", fmt.Errorf("!Ref %s: not a parameter", n.Value)
		}
		return v, nil
	case n.Kind == yaml.ScalarNode && !strings.HasPrefix(n.Tag, "!") || n.Tag == "!!str":
		return n.Value, nil
	}
	return "", fmt.Errorf("value %s is not evaluated locally", n.Tag)
}

func pick(tpl *cloudformation.Template, poolMode bool) (r resources, err error) {
	// In pool mode (UserPoolId) the template creates no pool.
	if r.pool, err = tpl.GetCognitoUserPoolWithName(LogicalUserPool); err != nil && !poolMode {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.client, err = tpl.GetCognitoUserPoolClientWithName(LogicalUserPoolClient); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.mapping, err = tpl.GetDynamoDBTableWithName(LogicalMappingTable); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.audit, err = tpl.GetDynamoDBTableWithName(LogicalAuditTable); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.queue, err = tpl.GetSQSQueueWithName(LogicalUnlinkQueue); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.dlq, err = tpl.GetSQSQueueWithName(LogicalUnlinkDLQ); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.pepper, err = tpl.GetSecretsManagerSecretWithName(LogicalPepperSecret); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.proofKey, err = tpl.GetSecretsManagerSecretWithName(LogicalProofKeySecret); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.operations, err = tpl.GetDynamoDBTableWithName(LogicalOperationsTable); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	if r.macKey, err = tpl.GetSecretsManagerSecretWithName(LogicalUnlinkMACKey); err != nil {
		return r, fmt.Errorf("provision: template: %w", err)
	}
	// The identity pool exists only when EnableIdentityPool held.
	if p, err := tpl.GetCognitoIdentityPoolWithName(LogicalIdentityPool); err == nil {
		r.identityPool = p
		if r.userFiles, err = tpl.GetS3BucketWithName(LogicalUserFilesBucket); err != nil {
			return r, fmt.Errorf("provision: template: %w", err)
		}
	}
	// The hosted UI's resources exist only when HostedUiEnabled held.
	if c, err := tpl.GetCognitoUserPoolClientWithName(LogicalHostedUIClient); err == nil {
		r.hostedClient = c
		if r.domain, err = tpl.GetCognitoUserPoolDomainWithName(LogicalUserPoolDomain); err != nil {
			return r, fmt.Errorf("provision: template: %w", err)
		}
		if r.kakaoIdP, err = tpl.GetCognitoUserPoolIdentityProviderWithName(LogicalKakaoIdP); err != nil {
			return r, fmt.Errorf("provision: template: %w", err)
		}
	}
	return r, nil
}

// ---------------------------------------------------------------- Cognito

func ensureUserPool(ctx context.Context, idp *cip.Client, name string, p *cfncognito.UserPool) (string, error) {
	pages := cip.NewListUserPoolsPaginator(idp, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("provision: list user pools: %w", err)
		}
		for _, up := range page.UserPools {
			if aws.ToString(up.Name) == name {
				if a, b := triggersString(up.LambdaConfig), triggersString(userPoolInput(name, p).LambdaConfig); a != b {
					return "", fmt.Errorf("provision: user pool %s exists with other triggers (%s, template %s); reset moto", name, a, b)
				}
				return aws.ToString(up.Id), nil
			}
		}
	}
	out, err := idp.CreateUserPool(ctx, userPoolInput(name, p))
	if err != nil {
		return "", fmt.Errorf("provision: create user pool %s: %w", name, err)
	}
	if out.UserPool == nil {
		return "", fmt.Errorf("provision: create user pool %s: the answer names no pool", name)
	}
	return aws.ToString(out.UserPool.Id), nil
}

func userPoolInput(name string, p *cfncognito.UserPool) *cip.CreateUserPoolInput {
	var lambdaConfig *ciptypes.LambdaConfigType
	if lc := p.LambdaConfig; lc != nil {
		lambdaConfig = &ciptypes.LambdaConfigType{
			PreSignUp: lc.PreSignUp, PreAuthentication: lc.PreAuthentication, PostAuthentication: lc.PostAuthentication,
			PostConfirmation: lc.PostConfirmation, DefineAuthChallenge: lc.DefineAuthChallenge, CreateAuthChallenge: lc.CreateAuthChallenge,
			VerifyAuthChallengeResponse: lc.VerifyAuthChallengeResponse, PreTokenGeneration: lc.PreTokenGeneration,
			CustomMessage: lc.CustomMessage, UserMigration: lc.UserMigration,
		}
	}
	in := &cip.CreateUserPoolInput{
		PoolName:               aws.String(name),
		AliasAttributes:        enums[ciptypes.AliasAttributeType](p.AliasAttributes),
		UsernameAttributes:     enums[ciptypes.UsernameAttributeType](p.UsernameAttributes),
		AutoVerifiedAttributes: enums[ciptypes.VerifiedAttributeType](p.AutoVerifiedAttributes),
		MfaConfiguration:       ciptypes.UserPoolMfaType(aws.ToString(p.MfaConfiguration)),
		DeletionProtection:     ciptypes.DeletionProtectionType(aws.ToString(p.DeletionProtection)),
		LambdaConfig:           lambdaConfig,
	}
	if c := p.UsernameConfiguration; c != nil {
		in.UsernameConfiguration = &ciptypes.UsernameConfigurationType{CaseSensitive: c.CaseSensitive}
	}
	if c := p.AdminCreateUserConfig; c != nil {
		in.AdminCreateUserConfig = &ciptypes.AdminCreateUserConfigType{
			AllowAdminCreateUserOnly: aws.ToBool(c.AllowAdminCreateUserOnly),
		}
	}
	if c := p.AccountRecoverySetting; c != nil {
		rs := &ciptypes.AccountRecoverySettingType{}
		for _, m := range c.RecoveryMechanisms {
			rs.RecoveryMechanisms = append(rs.RecoveryMechanisms, ciptypes.RecoveryOptionType{
				Name:     ciptypes.RecoveryOptionNameType(aws.ToString(m.Name)),
				Priority: int32ptr(m.Priority),
			})
		}
		in.AccountRecoverySetting = rs
	}
	if p.Policies != nil && p.Policies.PasswordPolicy != nil {
		pp := p.Policies.PasswordPolicy
		in.Policies = &ciptypes.UserPoolPolicyType{PasswordPolicy: &ciptypes.PasswordPolicyType{
			MinimumLength:                 int32ptr(pp.MinimumLength),
			RequireUppercase:              aws.ToBool(pp.RequireUppercase),
			RequireLowercase:              aws.ToBool(pp.RequireLowercase),
			RequireNumbers:                aws.ToBool(pp.RequireNumbers),
			RequireSymbols:                aws.ToBool(pp.RequireSymbols),
			TemporaryPasswordValidityDays: aws.ToInt32(int32ptr(pp.TemporaryPasswordValidityDays)),
		}}
	}
	for _, s := range p.Schema {
		a := ciptypes.SchemaAttributeType{
			Name:                   s.Name,
			AttributeDataType:      ciptypes.AttributeDataType(aws.ToString(s.AttributeDataType)),
			Mutable:                s.Mutable,
			Required:               s.Required,
			DeveloperOnlyAttribute: s.DeveloperOnlyAttribute,
		}
		if c := s.StringAttributeConstraints; c != nil {
			a.StringAttributeConstraints = &ciptypes.StringAttributeConstraintsType{MinLength: c.MinLength, MaxLength: c.MaxLength}
		}
		if c := s.NumberAttributeConstraints; c != nil {
			a.NumberAttributeConstraints = &ciptypes.NumberAttributeConstraintsType{MinValue: c.MinValue, MaxValue: c.MaxValue}
		}
		in.Schema = append(in.Schema, a)
	}
	return in
}

func ensureClient(ctx context.Context, idp *cip.Client, poolID, name string, c *cfncognito.UserPoolClient) (string, error) {
	in := clientInput(poolID, name, c)
	pages := cip.NewListUserPoolClientsPaginator(idp, &cip.ListUserPoolClientsInput{
		UserPoolId: aws.String(poolID), MaxResults: aws.Int32(60),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("provision: list user pool clients: %w", err)
		}
		for _, pc := range page.UserPoolClients {
			if aws.ToString(pc.ClientName) == name {
				id := aws.ToString(pc.ClientId)
				return id, convergeClient(ctx, idp, poolID, id, in)
			}
		}
	}
	out, err := idp.CreateUserPoolClient(ctx, in)
	if err != nil {
		return "", fmt.Errorf("provision: create user pool client %s: %w", name, err)
	}
	if out.UserPoolClient == nil {
		return "", fmt.Errorf("provision: create user pool client %s: the answer names no client", name)
	}
	return aws.ToString(out.UserPoolClient.ClientId), nil
}

// clientInput is the app client as template.yaml declares it.
func clientInput(poolID, name string, c *cfncognito.UserPoolClient) *cip.CreateUserPoolClientInput {
	in := &cip.CreateUserPoolClientInput{
		UserPoolId:                 aws.String(poolID),
		ClientName:                 aws.String(name),
		GenerateSecret:             aws.ToBool(c.GenerateSecret),
		ExplicitAuthFlows:          enums[ciptypes.ExplicitAuthFlowsType](c.ExplicitAuthFlows),
		ReadAttributes:             c.ReadAttributes,
		WriteAttributes:            c.WriteAttributes,
		AccessTokenValidity:        int32ptr(c.AccessTokenValidity),
		IdTokenValidity:            int32ptr(c.IdTokenValidity),
		RefreshTokenValidity:       aws.ToInt32(int32ptr(c.RefreshTokenValidity)),
		AuthSessionValidity:        int32ptr(c.AuthSessionValidity),
		EnableTokenRevocation:      c.EnableTokenRevocation,
		PreventUserExistenceErrors: ciptypes.PreventUserExistenceErrorTypes(aws.ToString(c.PreventUserExistenceErrors)),
	}
	if u := c.TokenValidityUnits; u != nil {
		in.TokenValidityUnits = &ciptypes.TokenValidityUnitsType{
			AccessToken:  ciptypes.TimeUnitsType(aws.ToString(u.AccessToken)),
			IdToken:      ciptypes.TimeUnitsType(aws.ToString(u.IdToken)),
			RefreshToken: ciptypes.TimeUnitsType(aws.ToString(u.RefreshToken)),
		}
	}
	return in
}

// convergeClient brings a client made by an earlier template (a moto that
// kept running) to the template's user-existence setting, which decides
// what anonymous callers learn. UpdateUserPoolClient resets whatever it is
// not given, so it is given the template's whole client.
func convergeClient(ctx context.Context, idp *cip.Client, poolID, clientID string, in *cip.CreateUserPoolClientInput) error {
	out, err := idp.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
	if err != nil {
		return fmt.Errorf("provision: describe user pool client %s: %w", aws.ToString(in.ClientName), err)
	}
	if out.UserPoolClient != nil && out.UserPoolClient.PreventUserExistenceErrors == in.PreventUserExistenceErrors {
		return nil
	}
	_, err = idp.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientId: aws.String(clientID), ClientName: in.ClientName,
		ExplicitAuthFlows: in.ExplicitAuthFlows, ReadAttributes: in.ReadAttributes, WriteAttributes: in.WriteAttributes,
		AccessTokenValidity: in.AccessTokenValidity, IdTokenValidity: in.IdTokenValidity, RefreshTokenValidity: in.RefreshTokenValidity,
		AuthSessionValidity: in.AuthSessionValidity, EnableTokenRevocation: in.EnableTokenRevocation,
		PreventUserExistenceErrors: in.PreventUserExistenceErrors, TokenValidityUnits: in.TokenValidityUnits,
	})
	if err != nil {
		return fmt.Errorf("provision: update user pool client %s: %w", aws.ToString(in.ClientName), err)
	}
	return nil
}

func triggersString(lc *ciptypes.LambdaConfigType) string {
	if lc == nil {
		return "none"
	}
	var parts []string
	for slot, arn := range map[string]*string{"PreSignUp": lc.PreSignUp, "PreAuthentication": lc.PreAuthentication,
		"PostAuthentication": lc.PostAuthentication, "PostConfirmation": lc.PostConfirmation, "DefineAuthChallenge": lc.DefineAuthChallenge,
		"CreateAuthChallenge": lc.CreateAuthChallenge, "VerifyAuthChallengeResponse": lc.VerifyAuthChallengeResponse,
		"PreTokenGeneration": lc.PreTokenGeneration, "CustomMessage": lc.CustomMessage, "UserMigration": lc.UserMigration} {
		if aws.ToString(arn) != "" {
			parts = append(parts, slot+"="+aws.ToString(arn))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// ensureHostedUI creates the pool's domain, its Kakao identity provider
// (the client secret read from Secrets Manager, as CloudFormation resolves
// the template's dynamic reference) and the hosted UI's app client, as the
// template declares them; what exists is reused.
func ensureHostedUI(ctx context.Context, idp *cip.Client, secrets *sm.Client, poolID, clientName string, r resources) (*HostedUI, error) {
	domain := r.domain.Domain
	got, err := idp.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: &domain})
	switch {
	case err != nil:
		return nil, fmt.Errorf("provision: describe domain %s: %w", domain, err)
	case got.DomainDescription == nil || aws.ToString(got.DomainDescription.UserPoolId) == "":
		if _, err := idp.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: &poolID, Domain: &domain}); err != nil {
			return nil, fmt.Errorf("provision: create domain %s: %w", domain, err)
		}
	case aws.ToString(got.DomainDescription.UserPoolId) != poolID:
		return nil, fmt.Errorf("provision: domain %s belongs to another user pool; reset moto or pick another HostedUiDomainPrefix", domain)
	}

	provider := r.kakaoIdP.ProviderName
	details, err := stringMap(r.kakaoIdP.ProviderDetails)
	if err != nil {
		return nil, fmt.Errorf("provision: %s ProviderDetails: %w", LogicalKakaoIdP, err)
	}
	for k, v := range details {
		if details[k], err = resolveDynamicReference(ctx, secrets, v); err != nil {
			return nil, fmt.Errorf("provision: %s ProviderDetails %s: %w", LogicalKakaoIdP, k, err)
		}
	}
	mapping, err := stringMap(r.kakaoIdP.AttributeMapping)
	if err != nil {
		return nil, fmt.Errorf("provision: %s AttributeMapping: %w", LogicalKakaoIdP, err)
	}
	if _, err := idp.DescribeIdentityProvider(ctx, &cip.DescribeIdentityProviderInput{UserPoolId: &poolID, ProviderName: &provider}); err != nil {
		if _, err := idp.CreateIdentityProvider(ctx, &cip.CreateIdentityProviderInput{UserPoolId: &poolID, ProviderName: &provider,
			ProviderType: ciptypes.IdentityProviderTypeType(r.kakaoIdP.ProviderType), ProviderDetails: details, AttributeMapping: mapping}); err != nil {
			return nil, fmt.Errorf("provision: create identity provider %s: %w", provider, err)
		}
	} else if _, err := idp.UpdateIdentityProvider(ctx, &cip.UpdateIdentityProviderInput{UserPoolId: &poolID, ProviderName: &provider,
		ProviderDetails: details, AttributeMapping: mapping}); err != nil {
		// Reused (make run again): its endpoints follow the double's address.
		return nil, fmt.Errorf("provision: update identity provider %s: %w", provider, err)
	}
	clientID, err := ensureClient(ctx, idp, poolID, clientName, r.hostedClient)
	if err != nil {
		return nil, err
	}
	// Reused: its redirect URIs follow the try-it page's address.
	c := r.hostedClient
	if _, err := idp.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: &poolID, ClientId: &clientID,
		CallbackURLs: c.CallbackURLs, LogoutURLs: c.LogoutURLs, SupportedIdentityProviders: c.SupportedIdentityProviders,
		AllowedOAuthFlows: enums[ciptypes.OAuthFlowType](c.AllowedOAuthFlows), AllowedOAuthScopes: c.AllowedOAuthScopes,
		AllowedOAuthFlowsUserPoolClient: aws.ToBool(c.AllowedOAuthFlowsUserPoolClient),
		ExplicitAuthFlows:               enums[ciptypes.ExplicitAuthFlowsType](c.ExplicitAuthFlows),
		ReadAttributes:                  c.ReadAttributes, WriteAttributes: c.WriteAttributes,
		PreventUserExistenceErrors: ciptypes.PreventUserExistenceErrorTypes(aws.ToString(c.PreventUserExistenceErrors)),
		EnableTokenRevocation:      c.EnableTokenRevocation, AuthSessionValidity: int32ptr(c.AuthSessionValidity)}); err != nil {
		return nil, fmt.Errorf("provision: update user pool client %s: %w", clientName, err)
	}
	return &HostedUI{Domain: domain, ClientID: clientID, Provider: provider}, nil
}

// stringMap reads a template map of strings (goformation leaves them as
// interface{}).
func stringMap(v any) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a map: %T", v)
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s is not a string: %T", k, x)
		}
		out[k] = s
	}
	return out, nil
}

// resolveDynamicReference resolves CloudFormation's
// {{resolve:secretsmanager:<name>:SecretString}} (the whole value) from
// Secrets Manager; any other value is returned as it is.
func resolveDynamicReference(ctx context.Context, secrets *sm.Client, v string) (string, error) {
	inner, ok := strings.CutPrefix(v, "{{resolve:secretsmanager:")
	if !ok {
		return v, nil
	}
	inner, ok = strings.CutSuffix(inner, ":SecretString}}")
	if !ok || inner == "" {
		return "", fmt.Errorf("dynamic reference %q: only {{resolve:secretsmanager:<name>:SecretString}} is resolved locally", v)
	}
	out, err := secrets.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: &inner})
	if err != nil {
		return "", fmt.Errorf("resolve secret %s: %w", inner, err)
	}
	return aws.ToString(out.SecretString), nil
}

// --------------------------------------------------------------- DynamoDB

func ensureTable(ctx context.Context, ddb *dynamodb.Client, name string, t *cfnddb.Table) error {
	in := tableInput(name, t)
	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		if _, err := ddb.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("provision: create table %s: %w", name, err)
		}
		waiter := dynamodb.NewTableExistsWaiter(ddb)
		if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
			return fmt.Errorf("provision: wait for table %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("provision: describe table %s: %w", name, err)
	default:
		if err := sameShape(in, desc.Table); err != nil {
			return fmt.Errorf("provision: table %s exists with another shape (%w); reset moto", name, err)
		}
	}

	if ttl := t.TimeToLiveSpecification; ttl != nil && ttl.Enabled {
		cur, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("provision: describe TTL of %s: %w", name, err)
		}
		// Enabling an enabled TTL is an error in DynamoDB.
		d := cur.TimeToLiveDescription
		if d == nil || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != aws.ToString(ttl.AttributeName) {
			if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
					AttributeName: ttl.AttributeName, Enabled: aws.Bool(true),
				},
			}); err != nil {
				return fmt.Errorf("provision: enable TTL on %s: %w", name, err)
			}
		}
	}
	if p := t.PointInTimeRecoverySpecification; p != nil && aws.ToBool(p.PointInTimeRecoveryEnabled) {
		if _, err := ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: aws.String(name),
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: aws.Bool(true),
			},
		}); err != nil {
			return fmt.Errorf("provision: enable PITR on %s: %w", name, err)
		}
	}
	return nil
}

func tableInput(name string, t *cfnddb.Table) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:                 aws.String(name),
		BillingMode:               ddbtypes.BillingMode(aws.ToString(t.BillingMode)),
		KeySchema:                 keySchema(t.KeySchema),
		DeletionProtectionEnabled: t.DeletionProtectionEnabled,
	}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, g := range t.GlobalSecondaryIndexes {
		gsi := ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName),
			KeySchema: keySchema(g.KeySchema),
		}
		if p := g.Projection; p != nil {
			gsi.Projection = &ddbtypes.Projection{
				ProjectionType:   ddbtypes.ProjectionType(aws.ToString(p.ProjectionType)),
				NonKeyAttributes: p.NonKeyAttributes,
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if s := t.SSESpecification; s != nil {
		in.SSESpecification = &ddbtypes.SSESpecification{
			Enabled:        aws.Bool(s.SSEEnabled),
			SSEType:        ddbtypes.SSEType(aws.ToString(s.SSEType)),
			KMSMasterKeyId: s.KMSMasterKeyId,
		}
	}
	for _, tag := range t.Tags {
		in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(tag.Key), Value: aws.String(tag.Value)})
	}
	return in
}

func keySchema(ks []cfnddb.Table_KeySchema) []ddbtypes.KeySchemaElement {
	out := make([]ddbtypes.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName),
			KeyType:       ddbtypes.KeyType(k.KeyType),
		})
	}
	return out
}

// sameShape compares what a reused table must share with the template: the
// key schema and the GSIs with their keys and projections.
func sameShape(want *dynamodb.CreateTableInput, got *ddbtypes.TableDescription) error {
	if a, b := keysString(want.KeySchema), keysString(got.KeySchema); a != b {
		return fmt.Errorf("keys %s, template %s", b, a)
	}
	index := func(name, keys string, p *ddbtypes.Projection) string {
		s := name + "(" + keys
		if p != nil {
			nk := slices.Clone(p.NonKeyAttributes)
			slices.Sort(nk)
			s += " " + string(p.ProjectionType) + strings.Join(nk, ",")
		}
		return s + ")"
	}
	var a, b []string
	for _, g := range want.GlobalSecondaryIndexes {
		a = append(a, index(aws.ToString(g.IndexName), keysString(g.KeySchema), g.Projection))
	}
	for _, g := range got.GlobalSecondaryIndexes {
		b = append(b, index(aws.ToString(g.IndexName), keysString(g.KeySchema), g.Projection))
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		return fmt.Errorf("indexes %v, template %v", b, a)
	}
	return nil
}

func keysString(ks []ddbtypes.KeySchemaElement) string {
	parts := make([]string, 0, len(ks))
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(parts, ",")
}

// ----------------------------------------------------- SQS and EventBridge

// ensureQueue creates (or finds) a queue with the template's attributes;
// dlqARN, when set, is its dead-letter queue with the template's
// maxReceiveCount. It returns the queue's URL and ARN.
func ensureQueue(ctx context.Context, q *sqs.Client, name string, t *cfnsqs.Queue, dlqARN string, visibility time.Duration) (string, string, error) {
	attrs := map[string]string{}
	for k, v := range map[string]*int{"VisibilityTimeout": t.VisibilityTimeout, "MessageRetentionPeriod": t.MessageRetentionPeriod} {
		if v != nil {
			attrs[k] = strconv.Itoa(*v)
		}
	}
	if visibility > 0 {
		attrs["VisibilityTimeout"] = strconv.Itoa(int(visibility / time.Second))
	}
	if t.SqsManagedSseEnabled != nil {
		attrs["SqsManagedSseEnabled"] = strconv.FormatBool(*t.SqsManagedSseEnabled)
	}
	if dlqARN != "" {
		policy, ok := t.RedrivePolicy.(map[string]any)
		if !ok {
			return "", "", fmt.Errorf("provision: queue %s: the template gives it no RedrivePolicy", name)
		}
		maxReceive, err := strconv.Atoi(fmt.Sprint(policy["maxReceiveCount"]))
		if err != nil || maxReceive < 1 {
			return "", "", fmt.Errorf("provision: queue %s: maxReceiveCount %v", name, policy["maxReceiveCount"])
		}
		raw, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxReceive})
		attrs["RedrivePolicy"] = string(raw)
	}
	var url string
	got, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *sqstypes.QueueDoesNotExist
	switch {
	case errors.As(err, &missing):
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			return "", "", fmt.Errorf("provision: create queue %s: %w", name, err)
		}
		url = aws.ToString(out.QueueUrl)
	case err != nil:
		return "", "", fmt.Errorf("provision: find queue %s: %w", name, err)
	default:
		// Reused (make run again): bring its settings to what is asked now.
		url = aws.ToString(got.QueueUrl)
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: attrs}); err != nil {
			return "", "", fmt.Errorf("provision: set attributes of queue %s: %w", name, err)
		}
	}
	a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("provision: queue %s: %w", name, err)
	}
	return url, a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

func ensureBus(ctx context.Context, eb *eventbridge.Client, name string) error {
	_, err := eb.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(name)})
	var missing *ebtypes.ResourceNotFoundException
	if !errors.As(err, &missing) {
		if err != nil {
			return fmt.Errorf("provision: describe event bus %s: %w", name, err)
		}
		return nil
	}
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
		return fmt.Errorf("provision: create event bus %s: %w", name, err)
	}
	return nil
}

// ---------------------------------------------------------------- helpers

func enums[T ~string](ss []string) []T {
	if len(ss) == 0 {
		return nil
	}
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = T(s)
	}
	return out
}

func int32ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}
