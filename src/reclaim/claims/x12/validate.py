"""placeholder"""
def validate_with_pyx12(path):
    raise NotImplementedError
