"""Small example apps; each synthesizes in the tests and passes cdk-nag's AWS Solutions pack."""
