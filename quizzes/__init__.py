"""The quiz bank (data files in quizzes/bank/) and the learning logic: scheduling and progress."""
