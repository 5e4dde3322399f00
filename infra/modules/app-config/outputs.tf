output "path" {
  description = "Parameter path holding the service settings, e.g. /rms/dev. The service reads it with GetParametersByPath."
  value       = local.path
}

output "parameter_names" {
  description = "Full names of the parameters, by setting name."
  value       = { for k, p in aws_ssm_parameter.this : k => p.name }
}

output "parameter_arns" {
  description = "ARNs of the parameters (for the service's IAM policy)."
  value       = [for p in aws_ssm_parameter.this : p.arn]
}
