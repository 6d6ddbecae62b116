// Package render writes a plan.Plan for people and programs: Text for a terminal, Markdown for a
// pull-request comment, JSON for tools. All three read the same Plan and show the same changes,
// notes and counts; none of them compares anything again.
//
// The JSON output is a contract (see JSONPlan; its version is output.PlanDocument's). Secrets never appear in any
// output: a plan holds none, and an initial password shows as (sensitive).
package render
