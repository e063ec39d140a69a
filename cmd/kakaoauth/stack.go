package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// StackDescriber is the part of the CloudFormation client that reads a
// stack's outputs (smoke, audit and tryit take --stack).
type StackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

var _ StackDescriber = (*cloudformation.Client)(nil)

// stackOutputs reads the outputs of a CloudFormation stack.
func stackOutputs(ctx context.Context, cfn StackDescriber, name string) (map[string]string, error) {
	outs, _, err := describeStack(ctx, cfn, name)
	return outs, err
}

// describeStack reads the outputs and the parameters of a stack.
func describeStack(ctx context.Context, cfn StackDescriber, name string) (outputs, params map[string]string, err error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &name})
	if err != nil {
		return nil, nil, fmt.Errorf("stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil, fmt.Errorf("stack %s not found", name)
	}
	outputs, params = map[string]string{}, map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range out.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return outputs, params, nil
}
