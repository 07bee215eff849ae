"""Services below every stage: the tokenizer and seeded hashing that several stages share."""
