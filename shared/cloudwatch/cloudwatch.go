// Package cloudwatch reports the stack's operational counts
// (kakaoauth.Metrics) as CloudWatch metrics in the "kakaoauth" namespace,
// with the stack's name as the Stack dimension, where the template's
// alarms watch them (the reconciler's ReconciledUnlinks).
package cloudwatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/kakaoauth/kakaoauth"
)

// Namespace is the metrics' namespace; the template's alarms name it.
const Namespace = "kakaoauth"

// DimensionStack is the dimension naming the stack.
const DimensionStack = "Stack"

// API is the part of *cloudwatch.Client the metrics use.
type API interface {
	PutMetricData(context.Context, *awscw.PutMetricDataInput, ...func(*awscw.Options)) (*awscw.PutMetricDataOutput, error)
}

var (
	_ API               = (*awscw.Client)(nil)
	_ kakaoauth.Metrics = (*Metrics)(nil)
)

// Metrics puts counts for one stack.
type Metrics struct {
	api   API
	stack string
}

// New reports the metrics of stack (its name) through api.
func New(api API, stack string) *Metrics { return &Metrics{api: api, stack: stack} }

// NewClient is the CloudWatch client of cfg. Against a local stand-in
// (cfg.BaseEndpoint set: moto) it speaks CloudWatch's awsQuery protocol,
// the only one moto 5.2 serves, instead of the SDK's default RPC v2 CBOR;
// AWS serves both.
func NewClient(cfg aws.Config) *awscw.Client {
	return awscw.NewFromConfig(cfg, func(o *awscw.Options) {
		if cfg.BaseEndpoint != nil {
			o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
		}
	})
}

// Count puts one data point of name (unit Count).
func (m *Metrics) Count(ctx context.Context, name string, value int) error {
	if m.stack == "" {
		return errors.New("cloudwatch: no stack name to put metrics under")
	}
	_, err := m.api.PutMetricData(ctx, &awscw.PutMetricDataInput{
		Namespace: aws.String(Namespace),
		MetricData: []types.MetricDatum{{
			MetricName: aws.String(name),
			Dimensions: []types.Dimension{{Name: aws.String(DimensionStack), Value: aws.String(m.stack)}},
			Unit:       types.StandardUnitCount,
			Value:      aws.Float64(float64(value)),
		}},
	})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "Throttling" {
			return &kakaoauth.Throttled{Reason: "cloudwatch put metric data"}
		}
		return fmt.Errorf("cloudwatch: put %s: %w", name, err)
	}
	return nil
}
