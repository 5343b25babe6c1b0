"""Running the desk: the processes of ``make run``, Rasa's generated files, NLU data, the command line."""
